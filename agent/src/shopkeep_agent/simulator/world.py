"""The simulated game's state, shared by its RCON and WebRCON consoles, and the command log."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from ..adapters._compat import UTC
from ..adapters.games import STEAM64_BASE

# Minecraft names; the simulator is stricter than Rust (any display name) on purpose so that one
# set of names works for both consoles.
NAME_RE = re.compile(r"[A-Za-z0-9_]{3,16}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def offline_uuid(name: str) -> str:
    """The uuid an offline-mode Minecraft server gives a name: a version-3 uuid of the MD5 of
    "OfflinePlayer:<name>" (no namespace, unlike uuid.uuid3)."""
    digest = bytearray(hashlib.md5(f"OfflinePlayer:{name}".encode()).digest())  # noqa: S324
    digest[6] = (digest[6] & 0x0F) | 0x30
    digest[8] = (digest[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(digest)))


def fake_steam_id(name: str) -> str:
    digest = hashlib.sha256(name.casefold().encode()).digest()
    return str(STEAM64_BASE + int.from_bytes(digest[:4], "big"))


@dataclass
class SimPlayer:
    name: str
    uuid: str
    steam_id: str
    joined_at: float = field(default_factory=time.monotonic)


def escape_for_log(text: str) -> str:
    """One command, one line: control characters are written as \\xNN; all else verbatim."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class World:
    def __init__(self, *, max_players: int = 20, log_path: str | Path | None = None) -> None:
        self.max_players = max_players
        self.online: dict[str, SimPlayer] = {}
        self.known: dict[str, SimPlayer] = {}
        self.whitelist: set[str] = set()
        self.ops: set[str] = set()
        self.banned: set[str] = set()
        self.groups: dict[str, set[str]] = {}
        self.permissions: dict[str, dict[str, bool]] = {}  # LuckPerms nodes per player
        self.balances: dict[str, int] = {}
        self.inventories: dict[str, dict[str, int]] = {}
        self.log_path = Path(log_path) if log_path else None
        self._log: TextIO | None = None
        # Called with (kind, text) for unsolicited console output (joins, chat), which WebRCON
        # broadcasts to its clients like Rust does.
        self.listeners: list[Callable[[str, str], None]] = []
        self.executed: list[tuple[str, str]] = []

    # -- players ----------------------------------------------------------------------------

    def join(
        self, name: str, *, uuid_: str | None = None, steam_id: str | None = None
    ) -> SimPlayer:
        if not NAME_RE.fullmatch(name):
            raise ValueError(f"invalid player name {name!r} (3-16 of A-Z a-z 0-9 _)")
        key = name.casefold()
        if key in self.banned:
            raise ValueError(f"{name} is banned from this server")
        if key in self.online:
            return self.online[key]
        if len(self.online) >= self.max_players:
            raise ValueError("the server is full")
        previous = self.known.get(key)
        player = SimPlayer(
            name=name,
            uuid=uuid_ or (previous.uuid if previous else offline_uuid(name)),
            steam_id=steam_id or (previous.steam_id if previous else fake_steam_id(name)),
        )
        self.online[key] = player
        self.known[key] = player
        self.emit("Generic", f"{player.steam_id}/{name} joined [simulator]")
        return player

    def leave(self, name: str, reason: str = "Disconnected") -> bool:
        player = self.online.pop(name.casefold(), None)
        if player is None:
            return False
        self.emit("Generic", f"{player.steam_id}/{player.name} disconnecting: {reason}")
        return True

    def find_online(self, name_or_id: str) -> SimPlayer | None:
        wanted = name_or_id.casefold()
        for player in self.online.values():
            if wanted in (player.name.casefold(), player.steam_id, player.uuid):
                return player
        return None

    def find_known(self, name: str) -> SimPlayer | None:
        return self.known.get(name.casefold())

    def emit(self, kind: str, text: str) -> None:
        for listener in list(self.listeners):
            listener(kind, text)

    # -- command log ------------------------------------------------------------------------

    def record(self, transport: str, command: str) -> None:
        """Append ``<ISO time> <transport> <command>`` and flush at once so another process
        counting executions never misses one."""
        self.executed.append((transport, command))
        if self.log_path is None:
            return
        if self._log is None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = self.log_path.open("a", encoding="utf-8")
        stamp = dt.datetime.now(UTC).isoformat(timespec="microseconds")
        self._log.write(f"{stamp} {transport} {escape_for_log(command)}\n")
        self._log.flush()

    def close(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


def parse_log_line(line: str) -> tuple[str, str, str]:
    """(iso time, transport, command) from one log line."""
    stamp, transport, command = line.rstrip("\n").split(" ", 2)
    return stamp, transport, command
