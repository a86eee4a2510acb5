"""The demo's game server: a simulator and a shopkeep-agent bound to the demo store.

``shopkeep demo`` calls ``demo_agent_prepare`` to make sure the demo store has a game server
and that ``var/demo-agent/shopkeep-agent.toml`` holds working secrets for it (secrets are
stored hashed, so a config whose secrets no longer match gets fresh ones). ``shopkeep serve
--demo-agent`` then starts ``demo_agent_commands()``: the simulator (a Minecraft-like
console on 127.0.0.1 logging every command it runs to ``var/demo-agent/game.log``) and the
agent polling this platform.
"""

from __future__ import annotations

import secrets
import sys
import tomllib
from pathlib import Path

from django.conf import settings
from django.db import transaction

from shopkeep.core.absolute import site_origin
from shopkeep.core.ids import hash_secret
from shopkeep.delivery.models import AgentKey, GameServer
from shopkeep.delivery.services import server_create, server_rotate_secret, store_secret_rotate
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import Store

SERVER_NAME = "Demo server"
RCON_PORT = 25575
CONTROL_PORT = 25580
ONLINE_AT_START = "Steve,Alex"


def demo_agent_dir() -> Path:
    return Path(settings.VAR_DIR) / "demo-agent"


def _config_path() -> Path:
    return demo_agent_dir() / "shopkeep-agent.toml"


def _read() -> dict:
    try:
        return tomllib.loads(_config_path().read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}


@transaction.atomic
def demo_agent_prepare(*, store: Store, actor: Actor) -> Path:
    """Idempotent: keeps a config whose secrets still match, otherwise rotates and rewrites."""
    server = GameServer.objects.alive().filter(store=store, name=SERVER_NAME).first()
    current = _read()
    platform = current.get("platform", {})
    key = AgentKey.objects.filter(store=store).first()
    store_ok = bool(key and key.secret_hash
                    and hash_secret(str(platform.get("store_secret", ""))) == key.secret_hash)
    server_ok = bool(server and hash_secret(str(platform.get("server_secret", "")))
                     == server.secret_hash)
    if store_ok and server_ok and current.get("game", {}).get("password"):
        if platform.get("url") != site_origin():
            _write(store_secret=platform["store_secret"], server_secret=platform["server_secret"],
                   password=current["game"]["password"])
        return _config_path()
    store_secret = None
    if server is None:
        server, server_secret, store_secret = server_create(
            store=store, actor=actor, name=SERVER_NAME, game="minecraft")
    else:
        server_secret = server_rotate_secret(store=store, actor=actor, server=server)
    if store_secret is None:
        store_secret = (platform["store_secret"] if store_ok
                        else store_secret_rotate(store=store, actor=actor))
    password = current.get("game", {}).get("password") or secrets.token_urlsafe(16)
    return _write(store_secret=store_secret, server_secret=server_secret, password=password)


def _write(*, store_secret: str, server_secret: str, password: str) -> Path:
    folder = demo_agent_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = _config_path()
    path.write_text(
        "# Written by `shopkeep demo` for the agent that `make run` starts beside a simulated\n"
        "# game server. A real installation looks the same: see docs/agent.md.\n"
        "[platform]\n"
        f'url = "{site_origin()}"\n'
        f'store_secret = "{store_secret}"\n'
        f'server_secret = "{server_secret}"\n'
        "poll_seconds = 60\n\n"
        "[game]\n"
        'type = "source_rcon"\n'
        'host = "127.0.0.1"\n'
        f"port = {RCON_PORT}\n"
        f'password = "{password}"\n\n'
        "[agent]\n"
        'journal = "journal.sqlite3"\n', encoding="utf-8")
    path.chmod(0o600)
    return path


def demo_agent_prepare_for_demo() -> Path | None:
    from shopkeep.demo import DEMO_SLUG
    from shopkeep.stores.models import Membership, Role

    store = Store.objects.filter(slug=DEMO_SLUG).first()
    owner = store and Membership.objects.filter(store=store, role=Role.OWNER).first()
    if owner is None:
        return None
    return demo_agent_prepare(store=store, actor=Actor.for_user(owner.user))


def demo_agent_commands() -> list[tuple[list[str], dict[str, str]]]:
    """The simulator and the agent as (argv, extra environment); empty when `shopkeep demo`
    has not written the config. The RCON password travels in the environment, not argv."""
    config = _read()
    password = config.get("game", {}).get("password")
    if not password:
        return []
    platform = config.get("platform", {})
    if platform.get("url") != site_origin() and platform.get("store_secret"):
        # `shopkeep demo` ran with another port in mind than the one `serve` is bound to.
        _write(store_secret=platform["store_secret"], server_secret=platform["server_secret"],
               password=password)
    folder = demo_agent_dir()
    simulator = [sys.executable, "-m", "shopkeep_agent.simulator",
                 "--rcon-port", str(config["game"].get("port", RCON_PORT)),
                 "--control-port", str(CONTROL_PORT), "--log", str(folder / "game.log"),
                 "--players", ONLINE_AT_START]
    agent = [sys.executable, "-m", "shopkeep_agent.cli", "-c", str(_config_path()), "run"]
    return [(simulator, {"SHOPKEEP_SIM_RCON_PASSWORD": password}), (agent, {})]
