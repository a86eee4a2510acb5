from __future__ import annotations

import os

import pytest
from shopkeep_agent.config import ConfigError, fingerprint, load_config

GOOD = """
[platform]
url = "https://shop.example.com/"
store_secret = "sks_abc"
server_secret = "srv_def"
poll_seconds = 30

[game]
type = "source_rcon"
host = "127.0.0.1"
port = 25575
password = "hunter2"
"""


def _write(tmp_path, text, name="agent.toml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_a_complete_file_loads_with_defaults(tmp_path):
    config = load_config(_write(tmp_path, GOOD), environ={})
    assert config.url == "https://shop.example.com"
    assert (config.store_secret, config.server_secret) == ("sks_abc", "srv_def")
    assert config.poll_seconds == 30 and config.wait_seconds == 30 and config.long_poll
    assert config.game == {"type": "source_rcon", "host": "127.0.0.1", "port": 25575,
                           "password": "hunter2"}
    assert config.journal_path == str(tmp_path / "shopkeep-agent-journal.sqlite3")
    assert config.watched == (str((tmp_path / "agent.toml").resolve()),)


def test_environment_overrides_the_file(tmp_path):
    env = {"SHOPKEEP_AGENT_SERVER_SECRET": "srv_env", "SHOPKEEP_AGENT_POLL_SECONDS": "5",
           "SHOPKEEP_AGENT_GAME_PORT": "27015", "SHOPKEEP_AGENT_GAME_PASSWORD": "12345",
           "SHOPKEEP_AGENT_LONG_POLL": "false", "SHOPKEEP_AGENT_JOURNAL": "/var/j.sqlite3"}
    config = load_config(_write(tmp_path, GOOD), environ=env)
    assert config.server_secret == "srv_env"
    assert config.poll_seconds == 5 and config.wait_seconds == 0
    assert config.game["port"] == 27015
    assert config.game["password"] == "12345"  # a numeric password stays a string
    assert config.journal_path == "/var/j.sqlite3"


def test_environment_alone_is_enough(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = load_config(None, environ={
        "SHOPKEEP_AGENT_URL": "http://127.0.0.1:8000", "SHOPKEEP_AGENT_STORE_SECRET": "sks_1",
        "SHOPKEEP_AGENT_SERVER_SECRET": "srv_1", "SHOPKEEP_AGENT_GAME_TYPE": "stdin",
        "SHOPKEEP_AGENT_GAME_COMMAND_FILE": "cmds.txt"})
    assert config.source is None and config.watched == ()
    assert config.game == {"type": "stdin", "command_file": "cmds.txt"}


def test_secrets_can_come_from_files_which_are_then_watched(tmp_path):
    (tmp_path / "store.secret").write_text("sks_fromfile\n")
    (tmp_path / "rcon.secret").write_text("pw from file\n")
    text = GOOD.replace('store_secret = "sks_abc"', 'store_secret_file = "store.secret"')
    text = text.replace('password = "hunter2"', 'password_file = "rcon.secret"')
    config = load_config(_write(tmp_path, text), environ={})
    assert config.store_secret == "sks_fromfile"
    assert config.game["password"] == "pw from file"
    assert str((tmp_path / "store.secret").resolve()) in config.watched
    env_file = tmp_path / "server.secret"
    env_file.write_text("srv_env_file")
    config = load_config(_write(tmp_path, text), environ={
        "SHOPKEEP_AGENT_SERVER_SECRET_FILE": str(env_file)})
    assert config.server_secret == "srv_env_file"


@pytest.mark.parametrize("change, message", [
    (("poll_seconds = 30", "poll_seconds = 4"), "between 5 and 60"),
    (("poll_seconds = 30", "poll_seconds = 61"), "between 5 and 60"),
    (('url = "https://shop.example.com/"', 'url = "ftp://x"'), "platform.url"),
    (('store_secret = "sks_abc"', ""), "store_secret is missing"),
    (('server_secret = "srv_def"', 'server_secret = "srv def"'), "invisible"),
    (('type = "source_rcon"', ""), "game.type is required"),
    (("[game]", "[gaem]"), "unknown section"),
    (("port = 25575", 'port = "abc"'), "game.port must be a number"),
    (("[platform]", "[platform\n"), "not valid TOML"),
])
def test_bad_settings_raise_a_message_that_says_what_to_fix(tmp_path, change, message):
    text = GOOD.replace(*change)
    with pytest.raises(ConfigError, match=message):
        load_config(_write(tmp_path, text), environ={})


def test_a_missing_secret_file_is_a_clear_error(tmp_path):
    text = GOOD.replace('store_secret = "sks_abc"', 'store_secret_file = "nope.secret"')
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(_write(tmp_path, text), environ={})


def test_an_explicit_config_path_must_exist(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(str(tmp_path / "missing.toml"), environ={})


def test_fingerprint_changes_when_a_watched_file_changes(tmp_path):
    path = _write(tmp_path, GOOD)
    before = fingerprint((path,))
    os.utime(path, (1, 1))
    assert fingerprint((path,)) != before
