"""The command-file adapter with regular files and real FIFOs."""

from __future__ import annotations

import asyncio
import os
import threading

import pytest
from shopkeep_agent.adapters import COMMAND_FAILED, AdapterError, Player, create_adapter


def adapter(tmp_path, **extra):
    return create_adapter({"type": "stdin", "command_file": str(tmp_path / "console"), **extra})


def test_each_command_is_appended_as_one_line(tmp_path):
    stdin = adapter(tmp_path)

    async def scenario():
        return [await stdin.execute(c) for c in ("say hello", "give Steve diamond 2")]

    results = asyncio.run(scenario())
    assert all(r.ok and r.output == "" for r in results)
    assert (tmp_path / "console").read_text() == "say hello\ngive Steve diamond 2\n"


def test_line_breaks_are_refused_and_nothing_is_written(tmp_path):
    stdin = adapter(tmp_path)
    result = asyncio.run(stdin.execute("say hi\nop Mallory"))
    assert (result.ok, result.error_code) == (False, COMMAND_FAILED)
    assert not (tmp_path / "console").exists()


def test_commands_reach_a_process_reading_a_fifo(tmp_path):
    fifo = tmp_path / "console"
    os.mkfifo(fifo)
    received = []
    reader_ready = threading.Event()

    def game():
        # Like a wrapper script: reopen after EOF, since each command is one open/write/close.
        while len(received) < 2:
            with open(fifo, encoding="utf-8") as stream:
                reader_ready.set()
                received.extend(line.rstrip("\n") for line in stream)

    thread = threading.Thread(target=game)
    thread.start()

    async def scenario():
        stdin = adapter(tmp_path)
        # A writer opening first would find nobody reading yet; the game opens it first.
        while True:
            try:
                return [await stdin.execute(f"give Steve stone {n}") for n in (1, 2)]
            except AdapterError:
                await asyncio.sleep(0.01)

    results = asyncio.run(scenario())
    thread.join(5)
    assert reader_ready.is_set()
    assert all(r.ok for r in results)
    assert received == ["give Steve stone 1", "give Steve stone 2"]


def test_a_fifo_nobody_reads_is_an_adapter_error_not_a_hang(tmp_path):
    os.mkfifo(tmp_path / "console")
    with pytest.raises(AdapterError, match="nothing is reading") as caught:
        asyncio.run(adapter(tmp_path).execute("say hi"))
    assert caught.value.command_sent is False


def test_players_come_from_the_players_file_in_either_format(tmp_path):
    players_file = tmp_path / "players"
    stdin = adapter(tmp_path, players_file=str(players_file))
    players_file.write_text(
        "# written by the wrapper\nSteve 069a79f4-44e9-4726-a5be-fca90e38aaf5\n"
        "Alex 76561198000000001\nNotch\n"
    )
    from_text = asyncio.run(stdin.players())
    players_file.write_text('[{"name": "Steve", "uuid": null, "steam_id": 76561198000000002}]')
    from_json = asyncio.run(stdin.players())
    assert from_text == [
        Player("Steve", uuid="069a79f4-44e9-4726-a5be-fca90e38aaf5"),
        Player("Alex", steam_id="76561198000000001"),
        Player("Notch"),
    ]
    assert from_json == [Player("Steve", steam_id="76561198000000002")]
    assert asyncio.run(stdin.is_online(Player("notch"))) is False  # the file changed


def test_without_a_players_file_nobody_can_be_seen_online(tmp_path):
    with pytest.raises(AdapterError, match="players_file"):
        asyncio.run(adapter(tmp_path).is_online(Player("Steve")))


def test_command_file_is_required():
    with pytest.raises(ValueError, match="command_file"):
        create_adapter({"type": "stdin", "players_file": "players.txt"})
    with pytest.raises(ValueError, match="type"):
        create_adapter({"type": "gopher"})
