from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from shopkeep.conf import env_bool, env_choice, env_int, env_list, env_str, parse_database_url


def test_env_bool_accepts_common_spellings(monkeypatch):
    for raw, expected in [("1", True), ("TRUE", True), ("yes", True), ("0", False),
                          ("off", False), ("", False)]:
        monkeypatch.setenv("X_FLAG", raw)
        assert env_bool("X_FLAG") is expected


def test_env_bool_rejects_anything_else_loudly(monkeypatch):
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_FLAG"):
        env_bool("X_FLAG")


def test_env_int_enforces_type_and_bounds(monkeypatch):
    monkeypatch.setenv("X_PORT", "eighty")
    with pytest.raises(ImproperlyConfigured, match="integer"):
        env_int("X_PORT", 1)
    monkeypatch.setenv("X_PORT", "70000")
    with pytest.raises(ImproperlyConfigured, match="<= 65535"):
        env_int("X_PORT", 1, maximum=65535)
    monkeypatch.setenv("X_PORT", "587")
    assert env_int("X_PORT", 1, minimum=1, maximum=65535) == 587


def test_env_str_without_default_must_be_set(monkeypatch):
    monkeypatch.delenv("X_MISSING", raising=False)
    with pytest.raises(ImproperlyConfigured, match="X_MISSING must be set"):
        env_str("X_MISSING")


def test_env_list_and_choice(monkeypatch):
    monkeypatch.setenv("X_HOSTS", " a.example , b.example,, ")
    assert env_list("X_HOSTS") == ["a.example", "b.example"]
    monkeypatch.setenv("X_MODE", "SMTP")
    assert env_choice("X_MODE", ("console", "smtp"), "console") == "smtp"
    monkeypatch.setenv("X_MODE", "pigeon")
    with pytest.raises(ImproperlyConfigured, match="console, smtp"):
        env_choice("X_MODE", ("console", "smtp"), "console")


def test_sqlite_url_uses_wal_and_a_busy_timeout(tmp_path):
    config = parse_database_url(f"sqlite:///{tmp_path}/db.sqlite3", base_dir=Path("/unused"))
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == f"{tmp_path}/db.sqlite3"
    assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_relative_sqlite_path_is_resolved_against_the_base_dir():
    config = parse_database_url("sqlite:///var/x.sqlite3", base_dir=Path("/srv/shop"))
    assert config["NAME"] == "/srv/shop/var/x.sqlite3"


def test_postgres_url_gets_a_connection_pool_instead_of_persistent_connections():
    config = parse_database_url(
        "postgres://shop:p%40ss@db.internal:6543/shopkeep?pool_max=20&sslmode=require",
        base_dir=Path("/"))
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["USER"], config["PASSWORD"], config["HOST"], config["PORT"], config["NAME"]) \
        == ("shop", "p@ss", "db.internal", "6543", "shopkeep")
    assert config["CONN_MAX_AGE"] == 0
    assert config["OPTIONS"]["pool"]["max_size"] == 20
    assert config["OPTIONS"]["sslmode"] == "require"


@pytest.mark.parametrize("url", ["mysql://x/y", "postgres://host/", "sqlite://",
                                 "postgres://h/db?pool_max=lots"])
def test_bad_database_urls_are_refused_with_a_clear_message(url):
    with pytest.raises(ImproperlyConfigured):
        parse_database_url(url, base_dir=Path("/"))
