"""The ``shopkeep-agent`` command: run, check, queue, init, adapters, version, simulate."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from . import __version__
from .config import Config, ConfigError, load_config

log = logging.getLogger("shopkeep_agent")


def _adapter_factory():
    from .adapters.base import create_adapter

    return create_adapter


def _load(args: argparse.Namespace) -> Config:
    return load_config(args.config)


def _setup_logging(level: str) -> None:
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(message)s")


def cmd_run(args: argparse.Namespace) -> int:
    from .journal import Journal, JournalLocked
    from .loop import Agent

    try:
        config = _load(args)
    except ConfigError as exc:
        print(f"shopkeep-agent: configuration error: {exc}", file=sys.stderr)
        return 2
    _setup_logging(config.log_level)
    try:
        journal = Journal(config.journal_path)
    except JournalLocked as exc:
        log.error("%s", exc)
        return 3
    try:
        factory = _adapter_factory()
        try:
            agent = Agent(config, journal=journal, adapter_factory=factory,
                          reload=lambda: load_config(config.source or args.config))
        except ValueError as exc:
            log.error("game settings: %s", exc)
            return 2
        return asyncio.run(agent.run())
    finally:
        journal.close()


async def _check(config: Config) -> bool:
    from .adapters.base import AdapterError
    from .client import ApiError, PlatformClient
    from .journal import Journal

    ok = True
    print(f"config      ok    {config.source or '(environment only)'}")
    try:
        journal = Journal(config.journal_path, lock=False)
        instance = journal.instance_id()
        journal.close()
        print(f"journal     ok    {config.journal_path} (instance {instance})")
    except Exception as exc:
        print(f"journal     FAIL  {config.journal_path}: {exc}")
        return False
    client = PlatformClient(url=config.url, store_secret=config.store_secret,
                            server_secret=config.server_secret, instance_id=instance,
                            ca_file=config.ca_file)
    try:
        pending = await client.pending(limit=500)
        more = "+" if pending.meta.get("more") else ""
        print(f"platform    ok    {config.url}: secrets accepted, "
              f"{len(pending.commands)}{more} command(s) pending")
    except ApiError as exc:
        ok = False
        if exc.auth:
            print(f"platform    FAIL  {config.url}: store or server secret refused ({exc.status});"
                  " copy both from the dashboard (Servers)")
        elif exc.duplicate_agent:
            print(f"platform    WARN  {config.url}: another agent instance is polling this "
                  "server (if it is this machine's running agent under another journal, stop "
                  "one of them)")
        else:
            print(f"platform    FAIL  {config.url}: {exc}")
    try:
        adapter = _adapter_factory()(config.game)
    except ValueError as exc:
        print(f"game        FAIL  settings: {exc}")
        return False
    try:
        await adapter.connect()
        players = await adapter.players()
        names = ", ".join(p.name for p in players[:10]) or "nobody"
        print(f"game        ok    {config.game.get('type')}: reachable, "
              f"{len(players)} online ({names})")
    except AdapterError as exc:
        ok = False
        print(f"game        FAIL  {config.game.get('type')}: {exc.code}: {exc}")
    finally:
        await adapter.close()
    return ok


def cmd_check(args: argparse.Namespace) -> int:
    try:
        config = _load(args)
    except ConfigError as exc:
        print(f"config      FAIL  {exc}")
        return 1
    return 0 if asyncio.run(_check(config)) else 1


def cmd_queue(args: argparse.Namespace) -> int:
    from .queue_view import show_queue

    try:
        config = _load(args)
    except ConfigError as exc:
        print(f"shopkeep-agent: configuration error: {exc}", file=sys.stderr)
        return 2
    return asyncio.run(show_queue(config, factory=_adapter_factory(), recent=args.recent))


def cmd_version(args: argparse.Namespace) -> int:
    print(f"shopkeep-agent {__version__} (Python {sys.version.split()[0]})")
    return 0


def cmd_adapters(args: argparse.Namespace) -> int:
    from .adapters.registry import ADAPTERS

    width = max(len(k) for k in ADAPTERS)
    for info in ADAPTERS.values():
        print(f"{info.type:<{width}}  {info.protocol}")
        print(f"{'':<{width}}  games:    {info.games}")
        print(f"{'':<{width}}  settings: {info.settings}")
    print("\nFull table: docs/agent-adapters.md")
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from .init import InitError, run_init

    try:
        config = run_init(connection=args.connection, directory=args.dir, force=args.force)
    except (InitError, EOFError, KeyboardInterrupt) as exc:
        print(f"shopkeep-agent init: {exc or 'cancelled'}", file=sys.stderr)
        return 2
    if args.no_check:
        return 0
    print("checking the new configuration:")
    try:
        loaded = load_config(str(config))
    except ConfigError as exc:
        print(f"config      FAIL  {exc}")
        return 1
    return 0 if asyncio.run(_check(loaded)) else 1


def cmd_simulate(args: argparse.Namespace) -> int:
    from . import simulator

    return int(simulator.main(list(args.rest)) or 0)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shopkeep-agent",
        description="Pulls delivery commands from a Shopkeep store and runs them on this game "
                    "server, at most once.")
    parser.add_argument("-c", "--config", default=None,
                        help="TOML config file (default: $SHOPKEEP_AGENT_CONFIG or "
                             "./shopkeep-agent.toml)")
    sub = parser.add_subparsers(dest="command")
    sub.required = True
    sub.add_parser("run", help="poll the store and run commands (the service)").set_defaults(
        func=cmd_run)
    sub.add_parser("check", help="can this agent reach the store and the game server?"
                   ).set_defaults(func=cmd_check)
    queue = sub.add_parser("queue", help="what is pending, waiting for whom, failed")
    queue.add_argument("--recent", type=int, default=10, help="journal entries to show")
    queue.set_defaults(func=cmd_queue)
    sub.add_parser("version", help="print the version").set_defaults(func=cmd_version)
    sub.add_parser("adapters", help="list the game adapters and the games they serve"
                   ).set_defaults(func=cmd_adapters)
    init = sub.add_parser("init", help="write a configuration from the dashboard's connection "
                          "string, then check it")
    init.add_argument("connection", nargs="?", help="shopkeep+https://... (asked if omitted)")
    init.add_argument("--dir", default=".", help="where to write agent.toml and the secret "
                      "files (default: here)")
    init.add_argument("--force", action="store_true", help="replace existing files")
    init.add_argument("--no-check", action="store_true", help="do not run check afterwards")
    init.set_defaults(func=cmd_init)
    simulate = sub.add_parser("simulate", help="run the game-server simulator (see --help)",
                              add_help=False)
    simulate.add_argument("rest", nargs=argparse.REMAINDER)
    simulate.set_defaults(func=cmd_simulate)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    # `simulate` hands everything after it to the simulator untouched (including --help).
    if "simulate" in argv:
        index = argv.index("simulate")
        args = parser.parse_args(argv[: index + 1])
        args.rest = argv[index + 1:]
    else:
        args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
