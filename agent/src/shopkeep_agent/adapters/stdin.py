"""For servers run under a wrapper that feeds their console (screen/tmux scripts, systemd
units with a FIFO on stdin, panel daemons): each command is written as one line to
``command_file``, either a regular file the wrapper tails or a FIFO the wrapper (or the game
itself) reads. The game's answer cannot be read back, so a written line is a success.

``players_file`` (optional) is kept up to date by the wrapper: a JSON list of objects
``{"name", "uuid", "steam_id"}``, or plain text with one player per line, ``name`` optionally
followed by whitespace and a uuid or a SteamID64. Without it, `players()` raises AdapterError,
so commands that wait for a player to be online stay queued rather than run blind.
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .base import COMMAND_FAILED, Adapter, AdapterError, Player, Result, setting_str
from .games import DEFAULT_SEPARATORS

# Writes of at most PIPE_BUF bytes to a pipe are atomic (POSIX), so two agents or a wrapper
# writing at the same time never interleave inside one command.
PIPE_BUF = 4096
_STEAM64 = re.compile(r"7656\d{13}")
_UUID = re.compile(
    r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
)


class StdinAdapter(Adapter):
    name = "stdin"
    separators = DEFAULT_SEPARATORS

    def __init__(self, *, command_file: str | Path, players_file: str | Path | None = None):
        self.command_file = Path(command_file)
        self.players_file = Path(players_file) if players_file else None

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> StdinAdapter:
        if not settings.get("command_file"):
            raise ValueError(
                "stdin: setting 'command_file' is required (the file or FIFO the wrapper reads)"
            )
        players_file = settings.get("players_file")
        if players_file is not None and not isinstance(players_file, str):
            raise ValueError("stdin: setting 'players_file' must be a path")
        return cls(command_file=setting_str(settings, "command_file"), players_file=players_file)

    async def connect(self) -> None:
        """Nothing to hold open: each command opens the file, so a wrapper that recreates its
        FIFO after a restart is picked up without reconnecting."""

    async def close(self) -> None:
        pass

    async def execute(self, command: str) -> Result:
        if "\n" in command or "\r" in command or "\x00" in command:
            return Result(
                ok=False,
                output="not sent: a line break or NUL would make the wrapper see two commands",
                error_code=COMMAND_FAILED,
            )
        line = (command + "\n").encode("utf-8")
        return await asyncio.get_running_loop().run_in_executor(None, self._write, line)

    def _write(self, line: bytes) -> Result:
        path = self.command_file
        try:
            is_fifo = stat.S_ISFIFO(os.stat(path).st_mode)
        except FileNotFoundError:
            is_fifo = False
        except OSError as exc:
            raise AdapterError(f"stdin: cannot stat {path}: {exc.strerror}") from None
        if is_fifo and len(line) > PIPE_BUF:
            return Result(
                ok=False,
                output=f"not sent: {len(line)} bytes is more than a pipe writes at once "
                f"({PIPE_BUF})",
                error_code=COMMAND_FAILED,
            )
        # O_NONBLOCK on a FIFO makes open() fail with ENXIO when nobody reads it, instead of
        # blocking the agent until the game comes back.
        flags = os.O_WRONLY | os.O_APPEND | (os.O_NONBLOCK if is_fifo else os.O_CREAT)
        try:
            fd = os.open(path, flags, 0o600)
        except OSError as exc:
            if exc.errno == errno.ENXIO:
                raise AdapterError(f"stdin: nothing is reading the FIFO {path}") from None
            raise AdapterError(f"stdin: cannot open {path}: {exc.strerror}") from None
        try:
            written = os.write(fd, line)
        except BlockingIOError:
            raise AdapterError(
                f"stdin: the FIFO {path} is full (is the game reading it?)"
            ) from None
        except OSError as exc:
            raise AdapterError(
                f"stdin: writing to {path} failed: {exc.strerror}", command_sent=True
            ) from None
        finally:
            os.close(fd)
        if written != len(line):
            raise AdapterError(
                f"stdin: only {written} of {len(line)} bytes reached {path}", command_sent=True
            )
        return Result(ok=True, output="")

    async def players(self) -> list[Player]:
        if self.players_file is None:
            raise AdapterError("stdin: no 'players_file' configured, so nobody can be seen online")
        try:
            text = self.players_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise AdapterError(f"stdin: cannot read {self.players_file}: {exc.strerror}") from None
        return parse_players_file(text)


def parse_players_file(text: str) -> list[Player]:
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            rows = json.loads(stripped)
        except ValueError as exc:
            raise AdapterError(f"stdin: players file is not valid JSON: {exc}") from None
        players = []
        for row in rows if isinstance(rows, list) else []:
            if isinstance(row, dict) and isinstance(row.get("name"), str):
                players.append(
                    Player(
                        name=row["name"],
                        uuid=row.get("uuid") or None,
                        steam_id=str(row["steam_id"]) if row.get("steam_id") else None,
                    )
                )
        return players
    players = []
    for raw in stripped.splitlines():
        parts = raw.split()
        if not parts or parts[0].startswith("#"):
            continue
        name, ident = parts[0], parts[1] if len(parts) > 1 else ""
        players.append(
            Player(
                name=name,
                uuid=ident if _UUID.fullmatch(ident) else None,
                steam_id=ident if _STEAM64.fullmatch(ident) else None,
            )
        )
    return players
