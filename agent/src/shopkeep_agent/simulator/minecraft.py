"""A Minecraft-like console (vanilla 1.20 wording, plus LuckPerms and EssentialsX commands that
stores commonly sell through)."""

from __future__ import annotations

import re

from .world import NAME_RE, World

UNKNOWN = "Unknown or incomplete command, see below for error"
NO_PLAYER = "No player was found"
NO_PROFILE = "That player does not exist"
ITEM_RE = re.compile(r"(?:minecraft:)?([a-z0-9_]+)")
LP_DURATION_RE = re.compile(r"(\d+[smhdwy])+|\d+mo")


def _here(command: str, position: int) -> str:
    # Vanilla prints up to ten characters before the error position, then the marker.
    start = max(0, position - 10)
    return ("..." if start else "") + command[start:position] + "<--[HERE]"


def _unknown(command: str, position: int) -> str:
    return UNKNOWN + _here(command, position)


class MinecraftConsole:
    def __init__(self, world: World) -> None:
        self.world = world

    def run(self, command: str) -> str:
        text = command[1:] if command.startswith("/") else command
        args = text.split(" ")
        name = args[0].lower()
        handler = getattr(self, f"cmd_{name}", None) if re.fullmatch(r"[a-z]+", name) else None
        if handler is None or "" in args:
            return _unknown(text, len(args[0]))
        return handler(text, args[1:])

    # -- vanilla ----------------------------------------------------------------------------

    def cmd_list(self, text: str, args: list[str]) -> str:
        if args not in ([], ["uuids"]):
            return _unknown(text, len(text))
        players = list(self.world.online.values())
        names = [f"{p.name} ({p.uuid})" if args else p.name for p in players]
        return (
            f"There are {len(players)} of a max of {self.world.max_players} players online: "
            + ", ".join(names)
        )

    def cmd_say(self, text: str, args: list[str]) -> str:
        if not args:
            return _unknown(text, len(text))
        self.world.emit("Chat", "[Rcon] " + " ".join(args))
        return ""

    def cmd_give(self, text: str, args: list[str]) -> str:
        if len(args) < 2 or len(args) > 3:
            return _unknown(text, len(text))
        target, item = args[0], args[1]
        match = ITEM_RE.fullmatch(item)
        if match is None:
            return f"Unknown item '{item}'\n" + _here(text, len(text))
        count = 1
        if len(args) == 3:
            if not re.fullmatch(r"-?\d+", args[2]):
                return f"Invalid integer '{args[2]}'\n" + _here(text, len(text))
            count = int(args[2])
            if count < 1:
                return f"Integer must not be less than 1, found {count}\n" + _here(text, len(text))
        player = self.world.find_online(target)
        if player is None:
            return NO_PLAYER
        item_id = match.group(1)
        inventory = self.world.inventories.setdefault(player.name.casefold(), {})
        inventory[item_id] = inventory.get(item_id, 0) + count
        title = item_id.replace("_", " ").title()
        return f"Gave {count} [{title}] to {player.name}"

    def cmd_kick(self, text: str, args: list[str]) -> str:
        if not args:
            return _unknown(text, len(text))
        player = self.world.find_online(args[0])
        if player is None:
            return NO_PLAYER
        reason = " ".join(args[1:]) or "Kicked by an operator"
        self.world.leave(player.name, reason)
        return f"Kicked {player.name}: {reason}"

    def cmd_ban(self, text: str, args: list[str]) -> str:
        if not args:
            return _unknown(text, len(text))
        name = self._profile(args[0])
        if name is None:
            return NO_PROFILE
        if name.casefold() in self.world.banned:
            return "Nothing changed. The player is already banned"
        reason = " ".join(args[1:]) or "Banned by an operator."
        self.world.banned.add(name.casefold())
        self.world.leave(name, "You are banned from this server")
        return f"Banned {name}: {reason}"

    def cmd_op(self, text: str, args: list[str]) -> str:
        if len(args) != 1:
            return _unknown(text, len(text))
        name = self._profile(args[0])
        if name is None:
            return NO_PROFILE
        if name.casefold() in self.world.ops:
            return "Nothing changed. The player already is an operator"
        self.world.ops.add(name.casefold())
        return f"Made {name} a server operator"

    def cmd_whitelist(self, text: str, args: list[str]) -> str:
        if len(args) != 2 or args[0] not in ("add", "remove"):
            return _unknown(text, len(text))
        name = self._profile(args[1])
        if name is None:
            return NO_PROFILE
        listed = name.casefold() in self.world.whitelist
        if args[0] == "add":
            if listed:
                return "Player is already whitelisted"
            self.world.whitelist.add(name.casefold())
            return f"Added {name} to the whitelist"
        if not listed:
            return "Player is not whitelisted"
        self.world.whitelist.discard(name.casefold())
        return f"Removed {name} from the whitelist"

    def cmd_dump(self, text: str, args: list[str]) -> str:
        """Not a game command: prints about N bytes (default 20000) so clients meet answers
        split over several RCON packets."""
        size = int(args[0]) if args and args[0].isdigit() else 20000
        size = min(size, 4 * 1024 * 1024)
        lines = []
        total = 0
        number = 0
        while total < size:
            number += 1
            line = f"line {number:06d} " + "é" * 20 + "x" * 40
            lines.append(line)
            total += len(line.encode()) + 1
        return "\n".join(lines)

    # -- plugins ----------------------------------------------------------------------------

    def cmd_lp(self, text: str, args: list[str]) -> str:
        """LuckPerms' user basics, the commands stores sell and take back ranks with:
        ``lp user <player> parent add|remove|set|addtemp|removetemp <group> [duration]``,
        ``permission set|unset|settemp|unsettemp <node> [true|false] [duration]`` and
        ``info``. Like LuckPerms it knows only players who joined."""
        if len(args) < 3 or args[0] != "user":
            return "[LP] Command not recognised."
        player = self.world.find_known(args[1])
        if player is None:
            return f"[LP] A user for {args[1]} could not be found."
        section, rest = args[2], args[3:]
        if section == "info" and not rest:
            return self._lp_info(player.name)
        if section == "parent" and rest:
            return self._lp_parent(player.name, rest)
        if section == "permission" and rest:
            return self._lp_permission(player.name, rest)
        return "[LP] Command not recognised."

    def _lp_parent(self, name: str, rest: list[str]) -> str:
        action, values = rest[0], rest[1:]
        timed = action in ("addtemp", "removetemp")
        if action not in ("add", "remove", "set", "addtemp", "removetemp") or (
                len(values) != (2 if action == "addtemp" else 1)):
            return "[LP] Command not recognised."
        if action == "addtemp" and not LP_DURATION_RE.fullmatch(values[1]):
            return f"[LP] Invalid duration: {values[1]}"
        group = values[0].lower()
        groups = self.world.groups.setdefault(name.casefold(), set())
        if action in ("add", "addtemp"):
            if group in groups:
                return f"[LP] {name} already inherits from {group} in context global."
            groups.add(group)
            span = f" for a duration of {values[1]}" if timed else ""
            return f"[LP] {name} now inherits permissions from {group}{span} in context global."
        if action == "set":
            groups.clear()
            groups.add(group)
            return (f"[LP] {name} had their existing parent groups cleared, and now only "
                    f"inherits {group} in context global.")
        if group not in groups:
            return f"[LP] {name} does not inherit from {group} in context global."
        groups.discard(group)
        return f"[LP] {name} no longer inherits permissions from {group} in context global."

    def _lp_permission(self, name: str, rest: list[str]) -> str:
        action, values = rest[0], rest[1:]
        nodes = self.world.permissions.get(name.casefold(), {})
        if action in ("set", "settemp") and values:
            node = values[0].lower()
            value = True
            extra = values[1:]
            if extra and extra[0] in ("true", "false"):
                value, extra = extra[0] == "true", extra[1:]
            if action == "settemp" and (len(extra) != 1 or not LP_DURATION_RE.fullmatch(extra[0])):
                return "[LP] Command not recognised."
            if action == "set" and extra:
                return "[LP] Command not recognised."
            if nodes.get(node) is value:
                return f"[LP] {name} already has {node} set in context global."
            self.world.permissions.setdefault(name.casefold(), nodes)[node] = value
            span = f" for a duration of {extra[0]}" if action == "settemp" else ""
            return f"[LP] Set {node} to {str(value).lower()} for {name}{span} in context global."
        if action in ("unset", "unsettemp") and len(values) == 1:
            node = values[0].lower()
            if node not in nodes:
                return f"[LP] {name} does not have {node} set in context global."
            del nodes[node]
            return f"[LP] Unset {node} for {name} in context global."
        return "[LP] Command not recognised."

    def _lp_info(self, name: str) -> str:
        groups = sorted(self.world.groups.get(name.casefold(), set())) or ["default"]
        nodes = self.world.permissions.get(name.casefold(), {})
        lines = [f"[LP] > User Info: {name}", "[LP] - Parent Groups:"]
        lines += [f"[LP]     > {group}" for group in groups]
        lines += [f"[LP] - Permissions: {len(nodes)}"]
        lines += [f"[LP]     > {node} = {str(v).lower()}" for node, v in sorted(nodes.items())]
        return "\n".join(lines)

    def cmd_eco(self, text: str, args: list[str]) -> str:
        """EssentialsX: ``eco give <player> <amount>``; knows only players who joined."""
        if len(args) != 3 or args[0] not in ("give", "take", "set"):
            return "Error: Invalid command syntax. Usage: /eco <give|take|set> <player> <amount>"
        player = self.world.find_known(args[1])
        if player is None:
            return "Error: Player not found."
        if not re.fullmatch(r"\d{1,9}", args[2]):
            return "Error: Invalid amount."
        amount = int(args[2])
        key = player.name.casefold()
        balance = self.world.balances.get(key, 0)
        if args[0] == "give":
            balance += amount
        elif args[0] == "take":
            balance = max(0, balance - amount)
        else:
            balance = amount
        self.world.balances[key] = balance
        if args[0] == "give":
            return f"${amount} added to {player.name} account. New balance: ${balance}"
        if args[0] == "take":
            return f"${amount} taken from {player.name} account. New balance: ${balance}"
        return f"You set {player.name}'s balance to ${balance}."

    def _profile(self, name: str) -> str | None:
        """Vanilla looks names up at Mojang; offline, any well-formed name has a profile."""
        known = self.world.find_known(name)
        if known is not None:
            return known.name
        return name if NAME_RE.fullmatch(name) else None
