"""POST /discord/interactions/<store>: Discord's HTTP interactions for one store's bot."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from shopkeep.discord.interactions import handle, verify
from shopkeep.discord.models import DiscordSettings

MAX_BODY = 64 * 1024


def _refuse(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


@csrf_exempt
@require_POST
def interactions(request: HttpRequest, store_slug: str) -> HttpResponse:
    if int(request.headers.get("Content-Length") or 0) > MAX_BODY:
        return _refuse(413, "too_large", "Interaction bodies are small; this one is not.")
    body = request.body
    row = (DiscordSettings.objects.select_related("store")
           .filter(store__slug=store_slug).first())
    # One answer for an unknown store, a store without a key and a bad signature: the
    # endpoint does not tell a prober which stores use Discord.
    if row is None or not verify(public_key_hex=row.public_key,
                                 signature_hex=request.headers.get("X-Signature-Ed25519", ""),
                                 timestamp=request.headers.get("X-Signature-Timestamp", ""),
                                 body=body):
        return _refuse(401, "invalid_signature", "Invalid request signature.")
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return _refuse(400, "invalid_json", "The body is not JSON.")
    if not isinstance(payload, dict):
        return _refuse(400, "invalid_json", "The body is not a JSON object.")
    return JsonResponse(handle(row=row, payload=payload))
