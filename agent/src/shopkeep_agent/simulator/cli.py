"""``python -m shopkeep_agent.simulator`` (also ``shopkeep-agent simulate``).

Serve:   --rcon-port P --rcon-password X [--webrcon-port Q] [--battleye-port B]
         [--udp-rcon-port U] [--telnet-port T] [--panel-port H] [--log FILE] [--players A,B]
         [--control-port C] [--rcon-flavour minecraft|source] [--max-players N]
Control: join NAME [--uuid U] [--steam-id S] --control-port C | leave NAME --control-port C |
         players --control-port C | drop --control-port C
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any

from ..adapters._compat import TIMEOUTS
from .core import Simulator, send_control

CONTROL_COMMANDS = ("join", "leave", "players", "drop")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in CONTROL_COMMANDS:
        return _control_main(args)
    if args and args[0] == "serve":
        args = args[1:]
    return _serve_main(args)


def _serve_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shopkeep-agent simulate",
        description="A simulated game server on 127.0.0.1: Source RCON (Minecraft-like) and "
        "Rust WebRCON. Control it with: join NAME | leave NAME | players | drop --control-port C",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--rcon-port", type=int, help="Source RCON port (0: any free port)")
    parser.add_argument(
        "--rcon-password",
        default=os.environ.get("SHOPKEEP_SIM_RCON_PASSWORD"),
        help="RCON password (or SHOPKEEP_SIM_RCON_PASSWORD)",
    )
    parser.add_argument("--rcon-flavour", choices=("minecraft", "source"), default="minecraft")
    parser.add_argument("--webrcon-port", type=int, help="Rust WebRCON port (0: any free port)")
    parser.add_argument("--webrcon-password", help="WebRCON password (default: the RCON one)")
    parser.add_argument("--battleye-port", type=int, help="BattlEye RCon UDP port (DayZ-like)")
    parser.add_argument("--udp-rcon-port", type=int,
                        help="Quake-style UDP rcon port, with /players.json on TCP (FiveM-like)")
    parser.add_argument("--telnet-port", type=int, help="telnet console port (7 Days to Die-like)")
    parser.add_argument("--panel-port", type=int, help="fake Pterodactyl client API port")
    parser.add_argument("--panel-api-key", default="ptlc_simulator")
    parser.add_argument("--panel-server-id", default="1a2b3c4d")
    parser.add_argument("--control-port", type=int, help="control channel port (0: any)")
    parser.add_argument("--log", help="append every executed command to this file")
    parser.add_argument("--players", default="", help="players online at start: Steve,Alex")
    parser.add_argument("--max-players", type=int, default=20)
    return parser


def _serve_main(argv: list[str]) -> int:
    parser = _serve_parser()
    options = parser.parse_args(argv)
    ports = (options.rcon_port, options.webrcon_port, options.battleye_port,
             options.udp_rcon_port, options.telnet_port, options.panel_port)
    if all(p is None for p in ports):
        parser.error("give at least one of --rcon-port, --webrcon-port, --battleye-port, "
                     "--udp-rcon-port, --telnet-port, --panel-port")
    password = options.rcon_password
    needs_password = any(p is not None for p in ports[:5])
    if needs_password and not password and not options.webrcon_password:
        parser.error("give --rcon-password (or set SHOPKEEP_SIM_RCON_PASSWORD)")
    if options.rcon_port is not None and not password:
        parser.error("--rcon-port needs --rcon-password")
    players = [name.strip() for name in options.players.split(",") if name.strip()]
    try:
        simulator = Simulator(
            rcon_port=options.rcon_port,
            rcon_password=password or "",
            rcon_flavour=options.rcon_flavour,
            webrcon_port=options.webrcon_port,
            webrcon_password=options.webrcon_password,
            control_port=options.control_port,
            battleye_port=options.battleye_port,
            udp_rcon_port=options.udp_rcon_port,
            telnet_port=options.telnet_port,
            panel_port=options.panel_port,
            panel_api_key=options.panel_api_key,
            panel_server_id=options.panel_server_id,
            log=options.log,
            players=players,
            max_players=options.max_players,
            host=options.host,
        )
    except ValueError as exc:
        parser.error(str(exc))
    try:
        asyncio.run(_serve(simulator))
    except OSError as exc:
        print(f"simulator: {exc}", file=sys.stderr)
        return 1
    return 0


async def _serve(simulator: Simulator) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    await simulator.start()
    try:
        # One JSON line on stdout once listening, so scripts can read the chosen ports.
        print(json.dumps({"ready": True, **simulator.ports()}), flush=True)
        await stop.wait()
    finally:
        await simulator.stop()


def _control_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="shopkeep-agent simulate", description="control a running simulator"
    )
    parser.add_argument("op", choices=CONTROL_COMMANDS)
    parser.add_argument("name", nargs="?")
    parser.add_argument("--control-port", type=int, required=True)
    parser.add_argument("--control-host", default="127.0.0.1")
    parser.add_argument("--uuid")
    parser.add_argument("--steam-id")
    options = parser.parse_args(argv)
    if options.op in ("join", "leave") and not options.name:
        parser.error(f"{options.op} needs a player NAME")
    request: dict[str, Any] = {"op": options.op}
    if options.name:
        request["name"] = options.name
    if options.uuid:
        request["uuid"] = options.uuid
    if options.steam_id:
        request["steam_id"] = options.steam_id
    try:
        answer = asyncio.run(send_control(options.control_port, request, host=options.control_host))
    except (OSError, ValueError, *TIMEOUTS) as exc:
        print(
            f"simulator control: cannot reach 127.0.0.1:{options.control_port}: {exc}",
            file=sys.stderr,
        )
        return 2
    if not answer.get("ok"):
        print(f"simulator control: {answer.get('error')}", file=sys.stderr)
        return 1
    print(json.dumps(answer))
    return 0
