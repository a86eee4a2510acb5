"""Every adapter, the games it serves and its settings: `shopkeep-agent adapters` prints
this, docs/agent-adapters.md has the same table. Modules are imported only when used, so
`websockets` is needed only by servers that use WebRCON."""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class AdapterInfo:
    type: str
    module: str
    cls: str
    protocol: str
    games: str
    settings: str


ADAPTERS: dict[str, AdapterInfo] = {a.type: a for a in [
    AdapterInfo("source_rcon", "source_rcon", "SourceRconAdapter", "Source RCON (TCP)",
                "Minecraft, CS2, CS:GO, TF2, GMod, ARK, Palworld, Valheim (plugins)",
                "host, port, password(_file), game = minecraft|source|cs2|ark"),
    AdapterInfo("webrcon", "webrcon", "WebRconAdapter", "Rust WebRCON (WebSocket)",
                "Rust (vanilla, Oxide/uMod, Carbon)", "host, port, password(_file)"),
    AdapterInfo("battleye", "battleye", "BattlEyeAdapter", "BattlEye RCon (UDP)",
                "DayZ, Arma 3, Arma 2", "host, port, password(_file)"),
    AdapterInfo("udp_rcon", "udp_rcon", "UdpRconAdapter", "Quake-style rcon (UDP)",
                "FiveM, RedM, Quake 3 engine games",
                "host, port, password(_file), game = fivem|redm|quake3"),
    AdapterInfo("telnet", "telnet", "TelnetAdapter", "Telnet console (TCP)",
                "7 Days to Die", "host, port, password(_file)"),
    AdapterInfo("panel", "panel", "PanelAdapter", "Pterodactyl / Pelican client API (HTTPS)",
                "any game on a Pterodactyl or Pelican host without RCON",
                "url, server, api_key(_file), flavour, [game.players] (optional)"),
    AdapterInfo("stdin", "stdin", "StdinAdapter", "command file / pipe",
                "any server that reads console commands from a file or stdin",
                "command_file, players_file (optional)"),
]}


def load(kind: str):
    info = ADAPTERS[kind]
    module = importlib.import_module(f"{__package__}.{info.module}")
    return getattr(module, info.cls)
