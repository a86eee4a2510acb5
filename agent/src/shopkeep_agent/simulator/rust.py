"""A Rust-like console (vanilla Rust wording plus Oxide's usergroup command)."""

from __future__ import annotations

import json
import shlex
import time

from .world import SimPlayer, World


class RustConsole:
    def __init__(self, world: World) -> None:
        self.world = world

    def run(self, command: str) -> str:
        try:
            args = shlex.split(command)
        except ValueError:
            args = command.split()
        if not args:
            return ""
        name = args[0].lower()
        handler = {
            "playerlist": self.cmd_playerlist,
            "say": self.cmd_say,
            "inventory.giveto": self.cmd_giveto,
            "kick": self.cmd_kick,
            "ban": self.cmd_ban,
            "oxide.usergroup": self.cmd_usergroup,
        }.get(name)
        if handler is None:
            return f"Command '{args[0]}' not found"
        return handler(args[1:])

    def _find(self, wanted: str) -> SimPlayer | None:
        return self.world.find_online(wanted)

    def cmd_playerlist(self, args: list[str]) -> str:
        now = time.monotonic()
        rows = [
            {
                "SteamID": p.steam_id,
                "OwnerSteamID": "0",
                "DisplayName": p.name,
                "Ping": 12,
                "Address": f"127.0.0.1:{50000 + index}",
                "ConnectedSeconds": int(now - p.joined_at),
                "VoiceRate": 0.0,
                "Health": 100.0,
            }
            for index, p in enumerate(self.world.online.values())
        ]
        return json.dumps(rows, indent=2)

    def cmd_say(self, args: list[str]) -> str:
        self.world.emit("Chat", "[SERVER] " + " ".join(args))
        return ""

    def cmd_giveto(self, args: list[str]) -> str:
        if len(args) < 2:
            return "Usage: inventory.giveto <player> <item> [amount]"
        player = self._find(args[0])
        if player is None:
            return "Couldn't find player!"
        amount = int(args[2]) if len(args) > 2 and args[2].isdigit() else 1
        inventory = self.world.inventories.setdefault(player.name.casefold(), {})
        inventory[args[1]] = inventory.get(args[1], 0) + amount
        return f"Giving {player.name} {amount} x {args[1]}"

    def cmd_kick(self, args: list[str]) -> str:
        if not args:
            return "Usage: kick <player> [reason]"
        player = self._find(args[0])
        if player is None:
            return "Player not found"
        reason = " ".join(args[1:]) or "no reason given"
        self.world.leave(player.name, f"Kicked: {reason}")
        return f"Kicked {player.name} ({reason})"

    def cmd_ban(self, args: list[str]) -> str:
        if not args:
            return "Usage: ban <player> [reason]"
        player = self._find(args[0])
        if player is None:
            return "Player not found"
        reason = " ".join(args[1:]) or "no reason given"
        self.world.banned.add(player.name.casefold())
        self.world.leave(player.name, f"Banned: {reason}")
        return f"Banned {player.name} ({reason})"

    def cmd_usergroup(self, args: list[str]) -> str:
        if len(args) != 3 or args[0] not in ("add", "remove"):
            return "Usage: oxide.usergroup <add|remove> <username|id> <groupname>"
        player = self.world.find_known(args[1]) or self._find(args[1])
        if player is None:
            return f"Player '{args[1]}' not found"
        groups = self.world.groups.setdefault(player.name.casefold(), set())
        group = args[2].lower()
        if args[0] == "add":
            groups.add(group)
            return f"Player '{player.name}' added to group: {group}"
        groups.discard(group)
        return f"Player '{player.name}' removed from group: {group}"
