"""The agent's connection string, shown on the server page with fresh secrets and pasted
into ``shopkeep-agent init`` (agent/src/shopkeep_agent/init.py parses it):
``shopkeep+https://<store secret>:<server secret>@<host>[:port][/path]?game=<game>``.
The store secret is left empty when it is not at hand (it is shown once, when the first
server is added); init then asks for it."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

# The agent adapter and its default port per platform game (the template's [game] section).
AGENT_GAMES: dict[str, tuple[str, int, str | None]] = {
    "minecraft": ("source_rcon", 25575, "minecraft"),
    "rust": ("webrcon", 28016, None),
    "ark": ("source_rcon", 27020, "ark"),
    "cs2": ("source_rcon", 27015, "cs2"),
    "gmod": ("source_rcon", 27015, "source"),
    "fivem": ("udp_rcon", 30120, "fivem"),
    "redm": ("udp_rcon", 30120, "redm"),
    "dayz": ("battleye", 2306, None),
    "arma3": ("battleye", 2306, None),
    "7dtd": ("telnet", 8081, None),
}


def connection_string(*, origin: str, server_secret: str, store_secret: str | None,
                      game: str) -> str:
    parts = urlsplit(origin)
    userinfo = f"{quote(store_secret or '', safe='')}:{quote(server_secret, safe='')}"
    query = f"?game={game}" if game in AGENT_GAMES else ""
    path = parts.path.rstrip("/") or "/"
    return f"shopkeep+{parts.scheme}://{userinfo}@{parts.netloc}{path}{query}"


def agent_game(game: str) -> dict[str, object]:
    adapter, port, flavour = AGENT_GAMES.get(game, ("source_rcon", 25575, "minecraft"))
    return {"type": adapter, "port": port, "game": flavour}
