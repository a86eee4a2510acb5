"""Player identities are validated per game before they can reach a command."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopkeep.core.errors import ServiceError
from shopkeep.customers.identity import (
    clean_discord_id,
    clean_minecraft_uuid,
    clean_player,
    clean_steam_id,
    identity_label,
)

STEAM = "76561198000000000"

# Names that would end or extend a console command, quote out of an argument or pass for
# another character.
HOSTILE = [
    "Steve; op Steve", "Steve\nop Steve", "Steve\rop Steve", "Steve\r\nop Steve",
    "Steve\x00", "Steve\u2028op", "Steve\x85op", "Ste ve", "Ste\tve", "\"Steve\"", "'Steve'",
    "Steve`", "Steve$(id)", "Steve|op", "Steve&op", "Steve/op", "Steve\\op", "{player}",
    "St\u0435ve",  # Cyrillic small ie for e
    "Steve\u200b",  # zero-width space
    "\uff33\uff54\uff45\uff56\uff45",  # full-width "Steve"
    "Steve\u202e",  # right-to-left override
    "Stéve",
]


@pytest.mark.parametrize("name", ["Steve", "abc", "A" * 16, "x_Notch_1", "___"])
def test_minecraft_names_of_3_to_16_letters_digits_underscores_pass(name):
    assert clean_player("minecraft", name) == name


def test_surrounding_whitespace_is_trimmed():
    assert clean_player("minecraft", "  Steve  ") == "Steve"


@pytest.mark.parametrize("name", ["", "ab", "A" * 17, "Steve-1", "Steve.1", *HOSTILE])
def test_minecraft_refuses_everything_else(name):
    with pytest.raises(ServiceError) as exc:
        clean_player("minecraft", name)
    assert (exc.value.code, exc.value.field) == ("invalid_player", "player_name")


@given(st.from_regex(r"[A-Za-z0-9_]{3,16}", fullmatch=True))
def test_every_valid_minecraft_name_passes_unchanged(name):
    assert clean_player("minecraft", name) == name


@given(st.text(min_size=1, max_size=20).filter(lambda s: not s.strip().isascii()
                                               or any(not (c.isalnum() or c == "_")
                                                      for c in s.strip())))
def test_no_minecraft_name_outside_the_charset_passes(name):
    with pytest.raises(ServiceError):
        clean_player("minecraft", name)


@pytest.mark.parametrize("game", ["rust", "ark", "cs2", "gmod"])
def test_steam_games_take_a_steam64_id(game):
    assert clean_player(game, STEAM) == STEAM


@pytest.mark.parametrize("value", [
    "7656119800000000",  # 16 digits
    "765611980000000000",  # 18 digits
    "12345678901234567",  # 17 digits outside the individual-account range
    "7656119800000000a",
    "STEAM_0:1:12345",
    "Steve",
    "7656119\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669\u0660",  # Arabic-Indic
    "7656119\uff18" + "\uff10" * 9,  # full-width digits
    STEAM + "; kick all",
    STEAM + "\nkick all",
])
def test_steam_games_refuse_anything_but_a_steam64_id(value):
    with pytest.raises(ServiceError):
        clean_player("rust", value)
    with pytest.raises(ServiceError):
        clean_steam_id(value)


@pytest.mark.parametrize("name", ["Player_1", "ab", "x.y-z", "A" * 32])
def test_other_games_take_a_strict_charset(name):
    assert clean_player("fivem", name) == name
    assert clean_player("other", name) == name


@pytest.mark.parametrize("name", ["a", "A" * 33, "--op", "..", "-rf", *HOSTILE])
def test_other_games_refuse_spaces_quotes_separators_and_unicode(name):
    with pytest.raises(ServiceError):
        clean_player("fivem", name)


def test_labels_name_the_identity_per_game():
    assert identity_label("minecraft") == "Minecraft username"
    assert identity_label("rust") == "Steam64 ID"
    assert identity_label("fivem") == "In-game name"


def test_minecraft_uuid_is_normalised_and_optional():
    assert clean_minecraft_uuid("") == ""
    assert clean_minecraft_uuid("069A79F444E94726A5BEFCA90E38AAF5") == (
        "069a79f4-44e9-4726-a5be-fca90e38aaf5")


@pytest.mark.parametrize("value", ["not-a-uuid", "069a79f4; op Steve", "1234"])
def test_a_bad_minecraft_uuid_is_refused(value):
    with pytest.raises(ServiceError) as exc:
        clean_minecraft_uuid(value)
    assert exc.value.code == "invalid_uuid"


def test_discord_ids_are_17_to_20_ascii_digits():
    assert clean_discord_id("123456789012345678") == "123456789012345678"
    assert clean_discord_id("") == ""
    for bad in ("1234", "1" * 21, "player#1234", "١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦٧٨"):
        with pytest.raises(ServiceError):
            clean_discord_id(bad)
