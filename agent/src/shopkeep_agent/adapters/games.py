"""What differs between games behind one protocol: how a game words its errors, how it lists
the players online, and how long a command it accepts.

Errors are recognised from the game's own text because RCON has no status code: the server
answers every command with text. Patterns are checked line by line (after Minecraft colour
codes are removed) in the order UNKNOWN_COMMAND, PLAYER_NOT_FOUND, COMMAND_FAILED; text that
matches none is a success. Owners can add patterns for plugins we do not know through the
``error_patterns`` setting.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from .base import COMMAND_FAILED, PLAYER_NOT_FOUND, UNKNOWN_COMMAND, Player, Result

ERROR_CODES = (UNKNOWN_COMMAND, PLAYER_NOT_FOUND, COMMAND_FAILED)
_COLOUR_CODE = re.compile("\u00a7[0-9a-fk-orx]", re.IGNORECASE)
STEAM64_BASE = 76561197960265728


@dataclass(frozen=True)
class ErrorPatterns:
    by_code: Mapping[str, Sequence[re.Pattern[str]]]

    def classify(self, output: str) -> Result:
        text = _COLOUR_CODE.sub("", output)
        for code in ERROR_CODES:
            for pattern in self.by_code.get(code, ()):
                if pattern.search(text):
                    return Result(ok=False, output=output, error_code=code)
        return Result(ok=True, output=output)

    def extended(self, extra: Mapping[str, Iterable[str]] | None) -> ErrorPatterns:
        if not extra:
            return self
        merged = {code: list(self.by_code.get(code, ())) for code in ERROR_CODES}
        for code, patterns in extra.items():
            if code not in ERROR_CODES:
                raise ValueError(f"error_patterns: unknown error code {code!r}")
            if isinstance(patterns, str):
                raise ValueError(f"error_patterns[{code!r}] must be a list of regular expressions")
            for source in patterns:
                try:
                    merged[code].append(re.compile(source, re.MULTILINE))
                except re.error as exc:
                    raise ValueError(
                        f"error_patterns[{code!r}]: bad regex {source!r}: {exc}"
                    ) from None
        return ErrorPatterns(merged)


def _patterns(**by_code: Sequence[str]) -> ErrorPatterns:
    return ErrorPatterns(
        {code: [re.compile(p, re.MULTILINE) for p in sources] for code, sources in by_code.items()}
    )


MINECRAFT_ERRORS = _patterns(
    UNKNOWN_COMMAND=[
        r"^Unknown or incomplete command",  # vanilla 1.13+ (Brigadier)
        r"^Unknown command\b",  # vanilla before 1.13, Bukkit/Spigot/Paper
    ],
    PLAYER_NOT_FOUND=[
        r"^No player was found",  # vanilla 1.13+
        r"^No entity was found",  # vanilla 1.13+, selectors
        r"^That player cannot be found",  # vanilla before 1.13
        r"^That player does not exist",  # vanilla ban/op/whitelist: no such profile
        r"^(?:Error: )?Player not found",  # EssentialsX ("Error: Player not found.")
        r"A user for \S+ could not be found",  # LuckPerms ("[LP] A user for X could not ...")
    ],
    COMMAND_FAILED=[
        r"<--\[HERE\]$",  # every vanilla argument parse error points at the bad argument
        r"^Incorrect argument for command",
        r"^Unknown item\b",
        r"^An unexpected error occurred trying to execute that command",
        r"^Error: ",  # EssentialsX errors other than the ones above
        r"^\[LP\] Command not recognised",  # LuckPerms
    ],
)

SOURCE_ERRORS = _patterns(
    UNKNOWN_COMMAND=[r'^Unknown command "', r"^Unknown command:"],
    PLAYER_NOT_FOUND=[r"No matching clients? (?:was|were) found", r"^\[SM\] No matching client"],
    COMMAND_FAILED=[r"^\[SM\] (?:Usage|Invalid)"],
)

RUST_ERRORS = _patterns(
    UNKNOWN_COMMAND=[r"^Command '.*' not found"],
    PLAYER_NOT_FOUND=[
        r"^Couldn't find player",
        r"^Player not found",
        r"^No player (?:was )?found",
        r"^Couldn't find user",
        r"^(?:Player|User) '.*' not found",  # Oxide (oxide.usergroup, oxide.grant)
    ],
    COMMAND_FAILED=[r"^Invalid (?:item|arguments?|SteamID)", r"^Usage: "],
)

ARK_ERRORS = _patterns(
    # ARK answers unknown commands and most failures with the same text as successes
    # ("Server received, But no response!!"), so there is little to recognise.
    PLAYER_NOT_FOUND=[r"^Can't find player", r"^Couldn't find player"],
)


def strip_colour(text: str) -> str:
    return _COLOUR_CODE.sub("", text)


def parse_minecraft_list(output: str) -> list[Player]:
    """Vanilla 1.13+: "There are 2 of a max of 20 players online: Steve, Alex" (with
    ``list uuids``: "Steve (uuid), Alex (uuid)"); before 1.13 and Bukkit: the names on the
    next line; EssentialsX-style group lines "default: Steve, Alex" also work."""
    text = strip_colour(output)
    marker = re.search(r"players? online[:.]?", text)
    if marker is None:
        return []
    players: list[Player] = []
    for line in text[marker.end() :].splitlines():
        if ": " in line:
            line = line.split(": ", 1)[1]
        for token in line.split(","):
            token = token.strip()
            if not token:
                continue
            match = re.fullmatch(r"(\S+) \(([0-9a-fA-F-]{32,36})\)", token)
            if match:
                players.append(Player(name=match.group(1), uuid=match.group(2)))
            else:
                players.append(Player(name=token))
    return players


def steam2_to_64(steam_id: str) -> str | None:
    match = re.fullmatch(r"STEAM_[0-5]:([01]):(\d+)", steam_id)
    if match:
        return str(STEAM64_BASE + int(match.group(2)) * 2 + int(match.group(1)))
    match = re.fullmatch(r"\[U:1:(\d+)\]", steam_id)
    if match:
        return str(STEAM64_BASE + int(match.group(1)))
    return None


def parse_source_status(output: str) -> list[Player]:
    """CS:GO/TF2/GMod ``status``: ``# 2 1 "Name" STEAM_1:0:123 02:13 62 0 active ...``; bots
    (id "BOT") are not players."""
    players = []
    for match in re.finditer(r'^#\s*\d+\s+(?:\d+\s+)?"(.*)"\s+(\S+)', output, re.MULTILINE):
        name, unique_id = match.group(1), match.group(2)
        if unique_id == "BOT":
            continue
        players.append(Player(name=name, steam_id=steam2_to_64(unique_id)))
    return players


def parse_cs2_status(output: str) -> list[Player]:
    """CS2 ``status`` player table: ``  2  00:10  30  0  active 786432 1.2.3.4:27005 'Name'``.
    The 65535 row is the server's own pending slot, not a player."""
    players = []
    pattern = r"^\s*(\d+)\s+\S+\s+\d+\s+\d+\s+\w+\s+\d+\s*\S*\s+'(.*)'\s*$"
    for match in re.finditer(pattern, output, re.MULTILINE):
        if match.group(1) != "65535":
            players.append(Player(name=match.group(2)))
    return players


def parse_ark_listplayers(output: str) -> list[Player]:
    """ARK ``ListPlayers``: ``0. Name, 76561198000000000`` per line, or "No Players Connected"."""
    players = []
    for match in re.finditer(r"^\s*\d+\.\s+(.+),\s*(\S+)\s*$", output, re.MULTILINE):
        name, player_id = match.group(1).strip(), match.group(2)
        steam_id = player_id if re.fullmatch(r"7656\d{13}", player_id) else None
        players.append(Player(name=name, steam_id=steam_id))
    return players


@dataclass(frozen=True)
class GameProfile:
    name: str
    errors: ErrorPatterns
    # Tried in order; the next is tried when the game says the previous one is unknown (old
    # Minecraft has no ``list uuids``).
    players_commands: tuple[str, ...]
    parse_players: Callable[[str], list[Player]]
    # Longest command body the game reads in one packet (Minecraft's vanilla reader stops at
    # 1460 bytes per packet; Valve's limit is a size field of 4096).
    max_command_bytes: int
    separators: str


# ';' is refused for every game. Source engine consoles split on it; Minecraft's does not, but
# no legitimate placeholder value (a player name, an amount, a group) needs it and some command
# plugins chain on it, so refusing it costs nothing and closes that door everywhere.
DEFAULT_SEPARATORS = ";\n\r"

GAMES: dict[str, GameProfile] = {
    "minecraft": GameProfile(
        name="minecraft",
        errors=MINECRAFT_ERRORS,
        players_commands=("list uuids", "list"),
        parse_players=parse_minecraft_list,
        max_command_bytes=1446,
        separators=DEFAULT_SEPARATORS,
    ),
    "source": GameProfile(
        name="source",
        errors=SOURCE_ERRORS,
        players_commands=("status",),
        parse_players=parse_source_status,
        max_command_bytes=4086,
        separators=DEFAULT_SEPARATORS,
    ),
    "cs2": GameProfile(
        name="cs2",
        errors=SOURCE_ERRORS,
        players_commands=("status",),
        parse_players=parse_cs2_status,
        max_command_bytes=4086,
        separators=DEFAULT_SEPARATORS,
    ),
    "ark": GameProfile(
        name="ark",
        errors=ARK_ERRORS,
        players_commands=("ListPlayers",),
        parse_players=parse_ark_listplayers,
        max_command_bytes=4086,
        separators=DEFAULT_SEPARATORS,
    ),
}


def game_profile(name: str) -> GameProfile:
    try:
        return GAMES[name]
    except KeyError:
        raise ValueError(
            f"source_rcon: game must be one of {', '.join(sorted(GAMES))} (got {name!r})"
        ) from None
