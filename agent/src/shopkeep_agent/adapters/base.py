"""The one small interface every game adapter implements (see helpers' agent-interface contract).

The agent only ever talks to a game through `Adapter`: `execute` runs one console command and
returns what the game answered, `players` lists who is online. Two kinds of failure are kept
apart on purpose:

* the game answered, but with an error (unknown command, player not found): a `Result` with
  ``ok=False`` and the game's own text. Retrying would give the same answer.
* the game could not be asked (refused connection, wrong password, timeout, broken socket): an
  `AdapterError`. Transient from the platform's point of view, except that ``command_sent``
  tells the agent whether the command may already have reached the game (then it must not be
  run again automatically).
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

UNKNOWN_COMMAND = "UNKNOWN_COMMAND"
PLAYER_NOT_FOUND = "PLAYER_NOT_FOUND"
COMMAND_FAILED = "COMMAND_FAILED"

# Characters that end a console line on every game we know; each adapter adds its own.
LINE_BREAKS = "\n\r"


@dataclass(frozen=True)
class Player:
    name: str
    uuid: str | None = None
    steam_id: str | None = None


@dataclass(frozen=True)
class Result:
    ok: bool  # False when the game itself reported an error
    output: str  # the game's text (joined multi-packet response)
    # when not ok: COMMAND_FAILED | PLAYER_NOT_FOUND | UNKNOWN_COMMAND
    error_code: str | None = None


class AdapterError(Exception):
    """The game server could not be reached or refused us (connect, auth, timeout, broken
    connection). Transient from the platform's point of view.

    ``command_sent`` is True when the failure happened after the command's bytes were handed to
    the network: the game may have run it, so the agent must treat it like a crash mid-execution
    rather than retry it.
    """

    code = "RCON_CONNECTION_FAILED"

    def __init__(self, message: str, *, command_sent: bool = False) -> None:
        super().__init__(message)
        self.command_sent = command_sent


class AdapterAuthError(AdapterError):
    code = "RCON_AUTH_FAILED"


class AdapterTimeout(AdapterError):
    code = "RCON_TIMEOUT"


class Adapter(abc.ABC):
    name: str = ""
    # Characters that would split one command into two for this game. The agent refuses
    # placeholder values containing any of them (or any control character).
    separators: str = LINE_BREAKS
    # False when the adapter cannot tell who is online (a panel without a player source):
    # commands that wait for the player then run at once.
    knows_players: bool = True

    @abc.abstractmethod
    async def connect(self) -> None:
        """Idempotent; `execute` and `players` call it lazily."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    async def execute(self, command: str) -> Result:
        """Run one console command. Raises AdapterError when the game cannot be asked."""

    @abc.abstractmethod
    async def players(self) -> list[Player]:
        """Players online now. Raises AdapterError when the game cannot be asked."""

    async def is_online(self, player: Player) -> bool:
        online = await self.players()
        return any(player_matches(player, other) for other in online)

    async def __aenter__(self) -> Adapter:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


def player_matches(wanted: Player, online: Player) -> bool:
    """Identity beats names: a uuid or SteamID known on both sides decides alone, because names
    can be changed and reused; only when neither side has an id in common do names decide."""
    if wanted.uuid and online.uuid:
        return _norm_uuid(wanted.uuid) == _norm_uuid(online.uuid)
    if wanted.steam_id and online.steam_id:
        return wanted.steam_id.strip() == online.steam_id.strip()
    return wanted.name.strip().casefold() == online.name.strip().casefold()


def _norm_uuid(value: str) -> str:
    return value.strip().replace("-", "").lower()


def create_adapter(settings: Mapping[str, Any]) -> Adapter:
    """Build the adapter named by ``settings["type"]``; ValueError with a clear message for bad
    settings. Implementations are imported here, lazily, so `websockets` is only needed by
    servers that use WebRCON."""
    from .registry import ADAPTERS, load

    kind = settings.get("type")
    if kind not in ADAPTERS:
        raise ValueError(f"adapter type must be one of {', '.join(repr(k) for k in ADAPTERS)} "
                         f"(got {kind!r}; `shopkeep-agent adapters` lists them)")
    return load(str(kind)).from_settings(settings)


def setting_str(settings: Mapping[str, Any], key: str, default: str | None = None) -> str:
    value = settings.get(key, default)
    if value is None:
        raise ValueError(f"{settings.get('type')}: setting {key!r} is required")
    if not isinstance(value, str):
        raise ValueError(f"{settings.get('type')}: setting {key!r} must be a string")
    return value


def setting_port(settings: Mapping[str, Any], key: str = "port") -> int:
    value = settings.get(key)
    try:
        port = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(
            f"{settings.get('type')}: setting {key!r} must be a port number (got {value!r})"
        ) from None
    if isinstance(value, bool) or not 1 <= port <= 65535:
        raise ValueError(f"{settings.get('type')}: setting {key!r} must be 1-65535 (got {value!r})")
    return port


def setting_timeout(settings: Mapping[str, Any], default: float = 5.0) -> float:
    value = settings.get("timeout", default)
    try:
        timeout = float(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"{settings.get('type')}: setting 'timeout' must be a number of seconds (got {value!r})"
        ) from None
    if isinstance(value, bool) or not 0 < timeout <= 300:
        raise ValueError(
            f"{settings.get('type')}: setting 'timeout' must be between 0 and 300 s (got {value!r})"
        )
    return timeout
