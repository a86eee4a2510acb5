"""``shopkeep-agent init``: one connection string from the dashboard's server page, a few
questions about the game, and a working configuration.

The connection string is ``shopkeep+https://<store secret>:<server secret>@<host>[/path]``
(``shopkeep+http`` for a local store), optionally ``?game=<game>`` so the questions start
with the right defaults. The secrets go to files only the agent's user can read (mode 0600,
created so; never world-readable in between); the TOML names the files. Then ``check``
runs.
"""

from __future__ import annotations

import getpass
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from .adapters.registry import ADAPTERS

_SECRET = re.compile(r"^[A-Za-z0-9_\-]{8,200}$")
# The platform's game -> (adapter, default port, adapter's own game setting).
GAME_DEFAULTS: dict[str, tuple[str, int, str | None]] = {
    "minecraft": ("source_rcon", 25575, "minecraft"),
    "rust": ("webrcon", 28016, None),
    "cs2": ("source_rcon", 27015, "cs2"),
    "csgo": ("source_rcon", 27015, "source"),
    "gmod": ("source_rcon", 27015, "source"),
    "tf2": ("source_rcon", 27015, "source"),
    "ark": ("source_rcon", 27020, "ark"),
    "dayz": ("battleye", 2306, None),
    "arma3": ("battleye", 2306, None),
    "fivem": ("udp_rcon", 30120, "fivem"),
    "redm": ("udp_rcon", 30120, "redm"),
    "7dtd": ("telnet", 8081, None),
}
ADAPTER_PORTS = {"source_rcon": 25575, "webrcon": 28016, "battleye": 2306, "udp_rcon": 30120,
                 "telnet": 8081}


class InitError(Exception):
    pass


@dataclass(frozen=True)
class Connection:
    url: str
    store_secret: str
    server_secret: str
    game: str


def parse_connection(text: str) -> Connection:
    text = text.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("shopkeep+https", "shopkeep+http") or not parts.hostname:
        raise InitError("a connection string starts with shopkeep+https:// (copy it from the "
                        "dashboard: Servers > your server)")
    store, server = unquote(parts.username or ""), unquote(parts.password or "")
    if store and not _SECRET.match(store):
        raise InitError("the store secret in the connection string is malformed")
    if not _SECRET.match(server):
        raise InitError("the connection string has no server secret")
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    port = f":{parts.port}" if parts.port else ""
    url = f"{parts.scheme[len('shopkeep+'):]}://{host}{port}{parts.path.rstrip('/')}"
    game = (parse_qs(parts.query).get("game") or [""])[0]
    return Connection(url=url, store_secret=store, server_secret=server,
                      game=game if re.fullmatch(r"[a-z0-9]{1,16}", game) else "")


Ask = Callable[[str, str], str]


def _ask_stdin(question: str, default: str) -> str:
    answer = input(f"{question} [{default}]: " if default else f"{question}: ").strip()
    return answer or default


def _ask_secret(question: str) -> str:
    return getpass.getpass(f"{question}: ").strip()


def _write_private(path: Path, content: str, *, force: bool) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | (0 if force else os.O_EXCL)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise InitError(f"{path} exists; pass --force to replace it") from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(content + "\n")
    os.chmod(path, 0o600)  # an existing file keeps its mode through O_TRUNC


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def game_section(adapter: str, answers: dict[str, str]) -> list[str]:
    lines = ["[game]", f"type = {_toml_str(adapter)}"]
    for key in ("host", "port", "game", "url", "server", "flavour", "command_file"):
        if answers.get(key):
            value = answers[key]
            lines.append(f"{key} = {value}" if key == "port" else f"{key} = {_toml_str(value)}")
    if answers.get("secret_file"):
        key = "api_key_file" if adapter == "panel" else "password_file"
        lines.append(f"{key} = {_toml_str(answers['secret_file'])}")
    return lines


def run_init(*, connection: str | None, directory: str, force: bool = False,
             ask: Ask = _ask_stdin, ask_secret: Callable[[str], str] = _ask_secret,
             out=sys.stdout) -> Path:
    """Writes ``agent.toml`` and the secret files into ``directory``; returns the config
    path. Raises InitError for bad input (nothing is written before all answers are in)."""
    conn = parse_connection(connection or ask("Connection string (dashboard: Servers > your "
                                              "server)", ""))
    store_secret = conn.store_secret or ask_secret(
        "Store secret (sks_...; shown once when the first server was added, or rotate it "
        "under Servers > Store secret)")
    if not _SECRET.match(store_secret):
        raise InitError("that store secret is malformed")
    default_adapter, default_port, default_game = GAME_DEFAULTS.get(conn.game,
                                                                   ("source_rcon", 25575, None))
    adapter = ask(f"Adapter ({', '.join(ADAPTERS)})", default_adapter)
    if adapter not in ADAPTERS:
        raise InitError(f"unknown adapter {adapter!r}; `shopkeep-agent adapters` lists them")
    answers: dict[str, str] = {}
    secret = ""
    if adapter == "panel":
        answers["url"] = ask("Panel address (https://panel.example.com)", "")
        answers["server"] = ask("Server identifier (8 characters in its panel URL)", "")
        answers["flavour"] = ask("Panel (pterodactyl, pelican)", "pterodactyl")
        secret = ask_secret("Client API key (ptlc_..., from the panel: Account > API "
                            "Credentials)")
    elif adapter == "stdin":
        answers["command_file"] = ask("File or FIFO the server reads commands from", "")
    else:
        answers["host"] = ask("Game server address", "127.0.0.1")
        port = ask("RCON/console port", str(default_port if adapter == default_adapter
                                            else ADAPTER_PORTS.get(adapter, 25575)))
        if not port.isdigit() or not 1 <= int(port) <= 65535:
            raise InitError(f"not a port: {port!r}")
        answers["port"] = port
        if adapter in ("source_rcon", "udp_rcon"):
            choices = "minecraft, source, cs2, ark" if adapter == "source_rcon" \
                else "fivem, redm, quake3"
            fallback = "minecraft" if adapter == "source_rcon" else "fivem"
            answers["game"] = ask(f"Game ({choices})",
                                  default_game if adapter == default_adapter and default_game
                                  else fallback)
        secret = ask_secret("RCON / console password")
    if adapter != "stdin" and (not secret or any(not c.isprintable() for c in secret)):
        raise InitError("the game password / API key is empty or has invisible characters")
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "agent.toml"
    if config.exists() and not force:
        raise InitError(f"{config} exists; pass --force to replace it")
    _write_private(folder / "store.secret", store_secret, force=force)
    _write_private(folder / "server.secret", conn.server_secret, force=force)
    if secret:
        _write_private(folder / "game.secret", secret, force=force)
        answers["secret_file"] = "game.secret"
    lines = ["# Written by `shopkeep-agent init`; see docs/agent.md. Secrets live in the",
             "# files named here (mode 0600).", "[platform]", f"url = {_toml_str(conn.url)}",
             'store_secret_file = "store.secret"', 'server_secret_file = "server.secret"', "",
             "[agent]", 'journal = "journal.sqlite3"', "", *game_section(adapter, answers)]
    if adapter == "panel":
        lines += ["", "# Optional: who is online, from the game's own RCON (otherwise commands",
                  "# that wait for the player run at once):", "# [game.players]",
                  '# type = "source_rcon"', "# port = 25575", '# password_file = "rcon.secret"']
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.chmod(config, 0o640)
    print(f"wrote {config} (secrets in {folder}/*.secret, readable only by "
          f"{_user()})", file=out)
    return config


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # pragma: no cover - no user database
        return "this user"
