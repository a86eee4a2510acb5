"""Production mode is checked in a fresh interpreter: settings are read once per process."""

from __future__ import annotations

import os
import subprocess
import sys

GOOD_KEY = "k9$Qm2!vT7zR4pW8xL1nB6cY3hJ5fD0sG9aE2uI7oP4rK8wM1qZ6tV3yX5bN0"


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SHOPKEEP_")}
    base.pop("DJANGO_SETTINGS_MODULE", None)
    base.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for browser tests; never in deployment
    return subprocess.run(
        [sys.executable, "-m", "shopkeep.cli", "manage", *args],
        env={**base, **env}, capture_output=True, text=True, timeout=120, check=False)


def test_production_refuses_to_start_without_secret_key_and_hosts(tmp_path):
    result = _run({"SHOPKEEP_ENV": "production", "SHOPKEEP_VAR_DIR": str(tmp_path)}, "check")
    assert result.returncode != 0
    assert "SHOPKEEP_SECRET_KEY" in result.stderr
    assert "SHOPKEEP_ALLOWED_HOSTS" in result.stderr
    assert "SHOPKEEP_SITE_URL must be set" in result.stderr


def test_production_refuses_the_development_key_and_plain_http(tmp_path):
    result = _run({
        "SHOPKEEP_ENV": "production", "SHOPKEEP_VAR_DIR": str(tmp_path),
        "SHOPKEEP_SECRET_KEY": "dev-insecure-shopkeep-secret-key-do-not-use-in-production",
        "SHOPKEEP_ALLOWED_HOSTS": "shop.example.com", "SHOPKEEP_SITE_URL": "http://shop.example.com",
    }, "check")
    assert result.returncode != 0
    assert "SHOPKEEP_SECRET_KEY" in result.stderr
    assert "https://" in result.stderr


def test_a_complete_production_config_passes_check_deploy_without_warnings(tmp_path):
    result = _run({
        "SHOPKEEP_ENV": "production", "SHOPKEEP_VAR_DIR": str(tmp_path),
        "SHOPKEEP_SECRET_KEY": GOOD_KEY, "SHOPKEEP_ALLOWED_HOSTS": "shop.example.com",
        "SHOPKEEP_SITE_URL": "https://shop.example.com",
    }, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_a_malformed_variable_stops_start_up_and_names_it(tmp_path):
    result = _run({"SHOPKEEP_VAR_DIR": str(tmp_path), "SHOPKEEP_EMAIL_PORT": "smtp"}, "check")
    assert result.returncode != 0
    assert "SHOPKEEP_EMAIL_PORT" in result.stderr


def _complete(tmp_path, **extra: str) -> dict[str, str]:
    return {"SHOPKEEP_ENV": "production", "SHOPKEEP_VAR_DIR": str(tmp_path),
            "SHOPKEEP_SECRET_KEY": GOOD_KEY, "SHOPKEEP_ALLOWED_HOSTS": "shop.example.com",
            "SHOPKEEP_SITE_URL": "https://shop.example.com", **extra}


def test_production_refuses_webhooks_to_private_addresses(tmp_path):
    result = _run(_complete(tmp_path, SHOPKEEP_WEBHOOK_ALLOW_PRIVATE="1"), "check")
    assert result.returncode != 0
    assert "SHOPKEEP_WEBHOOK_ALLOW_PRIVATE must be off" in result.stderr
    allowed = _run(_complete(tmp_path, SHOPKEEP_WEBHOOK_ALLOW_PRIVATE="0"), "check")
    assert allowed.returncode == 0, allowed.stderr


def test_production_warns_loudly_when_the_cache_is_per_process(tmp_path):
    result = _run(_complete(tmp_path), "check")
    assert result.returncode == 0, result.stderr
    assert "SHOPKEEP_REDIS_URL is not set" in result.stderr
    assert "Login rate limits" in result.stderr
    shared = _run(_complete(tmp_path, SHOPKEEP_REDIS_URL="redis://127.0.0.1:1/0"), "check")
    assert "SHOPKEEP_REDIS_URL is not set" not in shared.stderr
    development = _run({"SHOPKEEP_VAR_DIR": str(tmp_path)}, "check")
    assert "SHOPKEEP_REDIS_URL is not set" not in development.stderr
