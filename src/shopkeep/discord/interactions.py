"""Discord HTTP interactions (no gateway connection): Ed25519 verification and /claim.

Discord signs ``timestamp + raw body`` with the application's key and sends the signature in
``X-Signature-Ed25519`` and the timestamp in ``X-Signature-Timestamp``; an endpoint must
refuse a bad signature with 401 (Discord itself probes this when the URL is saved). A PING
(type 1) is answered with a PONG (type 1); /claim (type 2) with a message (type 4) that only
the caller sees (flag 64, EPHEMERAL).
"""

from __future__ import annotations

import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from shopkeep.discord import services
from shopkeep.discord.models import ClaimFollowup, DiscordSettings

PING, APPLICATION_COMMAND = 1, 2
PONG, CHANNEL_MESSAGE = 1, 4
EPHEMERAL = 1 << 6
# Replays of a captured request are refused after this long (Discord sends at once).
MAX_SKEW_SECONDS = 600


def verify(*, public_key_hex: str, signature_hex: str, timestamp: str, body: bytes,
           now: float | None = None) -> bool:
    if not public_key_hex or not signature_hex or not timestamp:
        return False
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
        signature = bytes.fromhex(signature_hex)
        sent = int(timestamp)
    except ValueError:
        return False
    if abs((now if now is not None else time.time()) - sent) > MAX_SKEW_SECONDS:
        return False
    try:
        key.verify(signature, timestamp.encode() + body)
    except InvalidSignature:
        return False
    return True


def ephemeral(content: str) -> dict:
    # allowed_mentions: a role or user name in the text never pings anybody.
    return {"type": CHANNEL_MESSAGE, "data": {"content": content, "flags": EPHEMERAL,
                                              "allowed_mentions": {"parse": []}}}


def _options(data: dict) -> dict[str, str]:
    found = {}
    for option in data.get("options") or []:
        if isinstance(option, dict) and isinstance(option.get("value"), str | int):
            found[str(option.get("name"))] = str(option["value"])[:254]
    return found


def handle(*, row: DiscordSettings, payload: dict) -> dict:
    kind = payload.get("type")
    if kind == PING:
        return {"type": PONG}
    if kind != APPLICATION_COMMAND:
        return ephemeral("This interaction is not supported.")
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    if data.get("name") != "claim":
        return ephemeral("Unknown command.")
    if str(payload.get("guild_id") or "") != row.guild_id:
        return ephemeral("Use /claim in the store's Discord server.")
    member = payload.get("member") if isinstance(payload.get("member"), dict) else {}
    user = member.get("user") if isinstance(member.get("user"), dict) else {}
    options = _options(data)
    result = services.claim(store=row.store, discord_user_id=str(user.get("id") or ""),
                            discord_username=str(user.get("username") or ""),
                            order_number=options.get("order_number", ""),
                            email=options.get("email", ""))
    token = str(payload.get("token") or "")
    application_id = str(payload.get("application_id") or row.application_id)
    if result.queued_ids and token and application_id.isdigit() and len(token) <= 500:
        ClaimFollowup.objects.create(store=row.store, application_id=application_id,
                                     interaction_token=token, command_ids=result.queued_ids)
    return ephemeral(result.text())
