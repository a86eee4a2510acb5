"""Pterodactyl and Pelican panels: console commands through the panel's client API, for
servers whose host exposes no RCON.

``POST {url}/api/client/servers/{server}/command`` with ``{"command": ...}`` and a client API
key (``Authorization: Bearer ptlc_...``) answers 204 once the panel handed the line to the
server's console; 502 when the server is not running (nothing was sent). The panel returns
no output, so a command the game rejects still counts as run. ``GET .../resources`` tells
whether the server is running. Pelican keeps this API as is.

Players: the panel knows none. ``[game.players]`` may name another adapter (the game's
RCON or query port) to ask; without it this adapter does not know who is online, and
commands that wait for the player run at once (docs/agent-adapters.md says so).
"""

from __future__ import annotations

import asyncio
import http.client
import json
import ssl
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from .base import (
    Adapter,
    AdapterAuthError,
    AdapterError,
    AdapterTimeout,
    Player,
    Result,
    create_adapter,
    setting_str,
    setting_timeout,
)

MAX_BODY = 1024 * 1024
FLAVOURS = ("pterodactyl", "pelican")


class PanelAdapter(Adapter):
    name = "panel"
    separators = ";\n\r"

    def __init__(self, *, url: str, server: str, api_key: str, timeout: float = 10.0,
                 flavour: str = "pterodactyl", ca_file: str | None = None,
                 players_from: Adapter | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"panel: url must be http(s)://host[:port] (got {url!r})")
        if flavour not in FLAVOURS:
            raise ValueError(f"panel: flavour must be one of {', '.join(FLAVOURS)}")
        self.scheme, self.host = parts.scheme, parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.base = parts.path.rstrip("/")
        self.server = server
        self._api_key = api_key
        self.timeout = timeout
        self.flavour = flavour
        self.ca_file = ca_file
        self.players_from = players_from
        self.knows_players = players_from is not None
        if players_from is not None:
            self.separators = "".join(sorted(set(self.separators + players_from.separators)))

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> PanelAdapter:
        api_key = setting_str(settings, "api_key")
        if not api_key or any(c.isspace() or not c.isprintable() for c in api_key):
            raise ValueError("panel: setting 'api_key' (a client API key, ptlc_...) is required")
        server = setting_str(settings, "server")
        if not server or not all(c.isalnum() or c == "-" for c in server):
            raise ValueError("panel: setting 'server' is the server's identifier (the 8 "
                             "characters in its panel URL, e.g. 1a2b3c4d)")
        players = settings.get("players")
        if players is not None and not isinstance(players, Mapping):
            raise ValueError("panel: [game.players] must be a table of adapter settings")
        if players is not None and players.get("type") == "panel":
            raise ValueError("panel: [game.players] cannot be another panel")
        return cls(url=setting_str(settings, "url"), server=server, api_key=api_key,
                   timeout=setting_timeout(settings, 10.0),
                   flavour=setting_str(settings, "flavour", "pterodactyl"),
                   ca_file=settings.get("ca_file") or None,
                   players_from=create_adapter(players) if players is not None else None)

    # -- HTTP -----------------------------------------------------------------------------
    def _connection(self) -> http.client.HTTPConnection:
        if self.scheme == "https":
            context = ssl.create_default_context(cafile=self.ca_file)
            return http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout,
                                               context=context)
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def _request(self, method: str, path: str, body: dict | None = None
                 ) -> tuple[int, Any, bool]:
        """(status, parsed JSON or None, sent). ``sent`` is False when the request never
        left (connect or TLS failure): only then is a command certainly not run."""
        conn = self._connection()
        headers = {"Authorization": f"Bearer {self._api_key}", "Accept": "application/json",
                   "User-Agent": "shopkeep-agent"}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        url = f"{self.base}/api/client/servers/{quote(self.server)}{path}"
        try:
            try:
                conn.connect()
            except (OSError, ssl.SSLError) as exc:
                raise AdapterError(f"cannot reach the panel at {self.host}:{self.port}: "
                                   f"{exc}") from None
            try:
                conn.request(method, url, body=data, headers=headers)
                response = conn.getresponse()
                raw = response.read(MAX_BODY + 1)
            except TimeoutError as exc:
                raise AdapterTimeout(f"the panel did not answer within {self.timeout:g}s",
                                     command_sent=True) from exc
            except (OSError, http.client.HTTPException) as exc:
                raise AdapterError(f"the panel connection broke: {exc}",
                                   command_sent=True) from exc
        finally:
            conn.close()
        parsed = None
        if raw and len(raw) <= MAX_BODY:
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = None
        return response.status, parsed, True

    async def _call(self, method: str, path: str, body: dict | None = None
                    ) -> tuple[int, Any]:
        loop = asyncio.get_running_loop()
        status, parsed, _ = await loop.run_in_executor(
            None, lambda: self._request(method, path, body))
        if status in (401, 403):
            raise AdapterAuthError(f"the panel refused the API key ({status}): "
                                   f"{_detail(parsed)}")
        if status == 404:
            raise AdapterError(f"the panel has no server {self.server!r} for this key")
        return status, parsed

    # -- the interface --------------------------------------------------------------------
    async def connect(self) -> None:
        status, parsed = await self._call("GET", "/resources")
        if status != 200:
            raise AdapterError(f"the panel answered {status}: {_detail(parsed)}")
        state = (parsed or {}).get("attributes", {}).get("current_state") \
            if isinstance(parsed, dict) else None
        if state != "running":
            raise AdapterError(f"the game server is {state or 'in an unknown state'}, not "
                               "running")

    async def close(self) -> None:
        if self.players_from is not None:
            await self.players_from.close()

    async def execute(self, command: str) -> Result:
        try:
            status, parsed = await self._call("POST", "/command", {"command": command})
        except AdapterAuthError:
            raise
        except AdapterError as exc:
            raise exc
        if status == 204 or status == 200:
            return Result(ok=True, output="")
        if status in (502, 409, 429):
            # Offline (502; Pelican 409) or rate limited: the panel sent nothing to the game.
            raise AdapterError(f"the panel did not send the command ({status}): "
                               f"{_detail(parsed)}")
        if status == 422:
            return Result(ok=False, output=_detail(parsed), error_code="COMMAND_FAILED")
        raise AdapterError(f"the panel answered {status}: {_detail(parsed)}",
                           command_sent=status >= 500)

    async def players(self) -> list[Player]:
        if self.players_from is None:
            return []
        return await self.players_from.players()

    async def is_online(self, player: Player) -> bool:
        if self.players_from is None:
            return True  # nothing to ask: commands never wait (documented)
        return await self.players_from.is_online(player)


def _detail(parsed: Any) -> str:
    """The panel's error text: ``{"errors": [{"code", "status", "detail"}]}``."""
    if isinstance(parsed, dict) and isinstance(parsed.get("errors"), list) and parsed["errors"]:
        first = parsed["errors"][0]
        if isinstance(first, dict):
            return str(first.get("detail") or first.get("code") or "")[:300]
    return ""
