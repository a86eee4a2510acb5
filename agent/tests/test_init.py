"""`shopkeep-agent init`: a connection string and a few answers make a working config."""

from __future__ import annotations

import os
import stat

import pytest
from shopkeep_agent.config import load_config
from shopkeep_agent.init import InitError, parse_connection, run_init

STORE = "sks_" + "a" * 43
SERVER = "srv_" + "b" * 43


def _answers(mapping):
    def ask(question, default):
        for key, value in mapping.items():
            if key in question:
                return value
        return default
    return ask


def test_a_connection_string_names_the_store_both_secrets_and_the_game():
    conn = parse_connection(f"shopkeep+https://{STORE}:{SERVER}@shop.example.com/?game=dayz")
    assert (conn.url, conn.store_secret, conn.server_secret, conn.game) == (
        "https://shop.example.com", STORE, SERVER, "dayz")
    local = parse_connection(f"shopkeep+http://{STORE}:{SERVER}@127.0.0.1:8000")
    assert local.url == "http://127.0.0.1:8000"


@pytest.mark.parametrize("bad", ["https://shop.example.com", f"shopkeep+https://{STORE}@x",
                                 "shopkeep+https://a:b@x", "shopkeep+ftp://a:b@x", ""])
def test_malformed_connection_strings_are_refused(bad):
    with pytest.raises(InitError):
        parse_connection(bad)


def test_init_writes_a_loadable_config_with_private_secret_files(tmp_path):
    folder = tmp_path / "etc"
    path = run_init(connection=f"shopkeep+https://{STORE}:{SERVER}@shop.example.com/?game=dayz",
                    directory=str(folder), ask=_answers({"port": "2310"}),
                    ask_secret=lambda q: "rcon-pw")
    config = load_config(str(path))
    assert (config.url, config.store_secret, config.server_secret) == (
        "https://shop.example.com", STORE, SERVER)
    assert config.game["type"] == "battleye" and config.game["port"] == 2310
    assert config.game["password"] == "rcon-pw"
    for name in ("store.secret", "server.secret", "game.secret"):
        mode = stat.S_IMODE(os.stat(folder / name).st_mode)
        assert mode == 0o600, (name, oct(mode))
    assert STORE not in path.read_text() and "rcon-pw" not in path.read_text()


def test_a_missing_store_secret_is_asked_for(tmp_path):
    path = run_init(connection=f"shopkeep+https://:{SERVER}@shop.example.com/?game=minecraft",
                    directory=str(tmp_path), ask=_answers({}),
                    ask_secret=lambda q: STORE if "Store secret" in q else "pw")
    config = load_config(str(path))
    assert config.store_secret == STORE
    assert (config.game["type"], config.game["game"], config.game["port"]) == (
        "source_rcon", "minecraft", 25575)


def test_panel_answers_make_a_panel_config(tmp_path):
    path = run_init(connection=f"shopkeep+https://{STORE}:{SERVER}@shop.example.com",
                    directory=str(tmp_path),
                    ask=_answers({"Adapter": "panel", "Panel address": "https://panel.host",
                                  "identifier": "1a2b3c4d"}),
                    ask_secret=lambda q: "ptlc_key")
    game = load_config(str(path)).game
    assert (game["type"], game["url"], game["server"], game["api_key"]) == (
        "panel", "https://panel.host", "1a2b3c4d", "ptlc_key")


def test_existing_files_are_not_replaced_without_force(tmp_path):
    kwargs = dict(connection=f"shopkeep+https://{STORE}:{SERVER}@shop.example.com",
                  directory=str(tmp_path), ask=_answers({}), ask_secret=lambda q: "pw")
    run_init(**kwargs)
    before = (tmp_path / "agent.toml").read_text()
    with pytest.raises(InitError):
        run_init(**kwargs)
    assert (tmp_path / "agent.toml").read_text() == before
    run_init(force=True, **kwargs)


def test_an_unknown_adapter_writes_nothing(tmp_path):
    with pytest.raises(InitError):
        run_init(connection=f"shopkeep+https://{STORE}:{SERVER}@shop.example.com",
                 directory=str(tmp_path / "x"), ask=_answers({"Adapter": "gopher"}),
                 ask_secret=lambda q: "pw")
    assert not (tmp_path / "x").exists()


def test_adapters_command_lists_every_adapter(capsys):
    from shopkeep_agent.cli import main

    assert main(["adapters"]) == 0
    out = capsys.readouterr().out
    for kind in ("source_rcon", "webrcon", "battleye", "udp_rcon", "telnet", "panel", "stdin"):
        assert kind in out
    assert "DayZ" in out and "FiveM" in out and "7 Days to Die" in out
