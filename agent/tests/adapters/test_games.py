"""Per-game player lists and error wording, from text captured in the formats games print."""

from __future__ import annotations

from shopkeep_agent.adapters import COMMAND_FAILED, PLAYER_NOT_FOUND, UNKNOWN_COMMAND, Player
from shopkeep_agent.adapters.games import (
    GAMES,
    MINECRAFT_ERRORS,
    SOURCE_ERRORS,
    parse_ark_listplayers,
    parse_cs2_status,
    parse_minecraft_list,
    parse_source_status,
    steam2_to_64,
)


def test_minecraft_list_in_its_different_wordings():
    assert parse_minecraft_list("There are 0 of a max of 20 players online: ") == []
    assert parse_minecraft_list(
        "There are 2 of a max of 20 players online: Steve (069a79f4-44e9-4726-a5be-fca90e38aaf5)"
        ", Alex (00000000-0000-0000-0000-000000000001)"
    ) == [
        Player("Steve", uuid="069a79f4-44e9-4726-a5be-fca90e38aaf5"),
        Player("Alex", uuid="00000000-0000-0000-0000-000000000001"),
    ]
    assert parse_minecraft_list("\u00a76There are \u00a7c1\u00a76/20 players online:\nNotch") == [
        Player("Notch")
    ]
    assert parse_minecraft_list(
        "There are 2 out of maximum 20 players online.\nadmins: Notch\ndefault: jeb_"
    ) == [Player("Notch"), Player("jeb_")]


def test_source_status_skips_bots_and_converts_steam_ids():
    status = (
        "hostname: test\n"
        "# userid name uniqueid connected ping loss state rate adr\n"
        '#  2 1 "Gordon Freeman" STEAM_1:0:11101 02:13 62 0 active 196608 10.0.0.2:27005\n'
        '#  3 "Bot Kleiner" BOT active 64\n'
        '#  4 2 "Alyx" [U:1:22202] 00:10 40 0 active 196608 10.0.0.3:27005\n'
        "#end\n"
    )
    assert parse_source_status(status) == [
        Player("Gordon Freeman", steam_id="76561197960287930"),
        Player("Alyx", steam_id="76561197960287930"),
    ]
    assert steam2_to_64("STEAM_0:1:1") == "76561197960265731"
    assert steam2_to_64("nonsense") is None


def test_cs2_status_ignores_the_pending_slot():
    status = (
        "---------players--------\n"
        "  id     time ping loss      state   rate adr name\n"
        "65535 [NoChan]    0    0 challenging      0unknown ''\n"
        "    2    00:10   30    0     active 786432 10.0.0.2:27005 'Gordon'\n"
        "#end\n"
    )
    assert parse_cs2_status(status) == [Player("Gordon")]


def test_ark_listplayers():
    assert parse_ark_listplayers("No Players Connected") == []
    assert parse_ark_listplayers("0. Rex Tamer, 76561198000000001\n1. Dodo, 0002abcdef\n") == [
        Player("Rex Tamer", steam_id="76561198000000001"),
        Player("Dodo"),
    ]


def test_error_wordings_are_classified():
    def code(patterns, text):
        return patterns.classify(text).error_code

    assert code(MINECRAFT_ERRORS, 'Unknown command. Type "/help" for help.') == UNKNOWN_COMMAND
    assert code(MINECRAFT_ERRORS, "\u00a7cError: \u00a74Player not found.") == PLAYER_NOT_FOUND
    assert code(MINECRAFT_ERRORS, "That player does not exist") == PLAYER_NOT_FOUND
    assert code(MINECRAFT_ERRORS, "Invalid integer 'x'\n...ond x<--[HERE]") == COMMAND_FAILED
    assert code(MINECRAFT_ERRORS, "Gave 1 [Diamond] to Steve") is None
    assert code(SOURCE_ERRORS, 'Unknown command "sv_frobnicate"') == UNKNOWN_COMMAND
    assert code(SOURCE_ERRORS, "[SM] No matching client was found.") == PLAYER_NOT_FOUND


def test_every_game_refuses_semicolons_and_line_breaks():
    assert {game: set(p.separators) for game, p in GAMES.items()} == {
        game: {";", "\n", "\r"} for game in GAMES
    }
