from __future__ import annotations

import pytest
from shopkeep_agent.placeholders import UnsafePlaceholder, render, unsafe_reason

VALUES = {"player": "Steve", "quantity": "2", "uuid": "069a79f4-44e9-4726-a5be-fca90e38aaf5"}


def test_render_replaces_known_placeholders():
    assert render("give {player} diamond {quantity}", VALUES, ";\n") == "give Steve diamond 2"


def test_render_turns_unknown_and_missing_values_into_empty_strings():
    values = {"player": "Steve", "steam_id": None}
    assert render("x {player}|{steam_id}|{nope}", values, "\n") == "x Steve||"


def test_render_leaves_json_braces_alone():
    template = 'tellraw {player} {"text":"Thanks!","color":"gold"}'
    assert render(template, VALUES, "\n") == 'tellraw Steve {"text":"Thanks!","color":"gold"}'


@pytest.mark.parametrize("hostile", [
    "Steve\nop Steve", "Steve\rop Steve", "Steve\x00", "Steve\x1b[31m", "Steve\u2028op Steve",
    "Steve\u0085op", "Steve\x7f",
])
def test_render_refuses_control_characters_and_names_only_the_placeholder(hostile):
    with pytest.raises(UnsafePlaceholder) as info:
        render("give {player} diamond", {"player": hostile}, "")
    assert info.value.code == "UNSAFE_PLACEHOLDER"
    assert info.value.name == "player"
    assert "op Steve" not in str(info.value)


def test_render_refuses_the_adapters_command_separator():
    with pytest.raises(UnsafePlaceholder, match="separator ';'"):
        render("sm_give {player}", {"player": "x; rcon_password y"}, ";\n")


def test_a_separator_of_another_game_is_allowed():
    assert render("give {player}", {"player": "a;b"}, "\n") == "give a;b"


def test_an_unsafe_value_that_is_not_used_does_not_block_the_command():
    assert render("say hello", {"player": "x\nop x"}, "\n") == "say hello"


def test_unsafe_reason_accepts_ordinary_unicode_names():
    assert unsafe_reason("Jürgen_ÆØ-名前", ";\n") is None
