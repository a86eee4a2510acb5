"""Login throttling across real web processes: shared through Redis, per-IP limits that count
the forwarded address only when `--forwarded-allow-ips` names the proxy."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager

import httpx
import pytest

from shopkeep.cli import uvicorn_argv

REFUSED = "Too many failed login attempts"
pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None,
                                reason="needs redis-server (apt-get install redis-server)")


def _env(var_dir, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SHOPKEEP_") and k not in ("DJANGO_SETTINGS_MODULE",
                                                          "FORWARDED_ALLOW_IPS")}
    env.update(SHOPKEEP_VAR_DIR=str(var_dir), SHOPKEEP_ENV="development", **extra)
    return env


@pytest.fixture
def var_dir(tmp_path):
    subprocess.run([sys.executable, "-m", "shopkeep.cli", "migrate", "--quiet"],
                   env=_env(tmp_path), check=True, timeout=120)
    return tmp_path


@pytest.fixture
def redis_url(tmp_path):
    sock_path = tmp_path / "redis.sock"
    # --port 0: no TCP listener at all, only the socket file in this test's directory.
    proc = subprocess.Popen(["redis-server", "--port", "0", "--unixsocket", str(sock_path),
                             "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not sock_path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"unix://{sock_path}"
    proc.terminate()
    proc.wait(timeout=10)


@contextmanager
def web_process(var_dir, *, forwarded_allow_ips: str = "", **env: str):
    """One `shopkeep serve` web process (the same uvicorn command line) on port 0."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    argv = [*uvicorn_argv(host="127.0.0.1", port=0, forwarded_allow_ips=forwarded_allow_ips),
            "--fd", str(sock.fileno()), "--log-level", "warning"]
    proc = subprocess.Popen(argv, env=_env(var_dir, **env), pass_fds=(sock.fileno(),))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("web process did not start")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        sock.close()


def _failed_login(base: str, email: str, forwarded_for: str | None = None) -> str:
    # One public host name for every process, as behind a load balancer (allauth's per-account
    # key includes the host, and each test process has its own port).
    headers = {"Host": "127.0.0.1"}
    if forwarded_for:
        headers["X-Forwarded-For"] = forwarded_for
    with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
        client.get("/accounts/login/")
        response = client.post("/accounts/login/", data={
            "login": email, "password": "wrong-password-1",
            "csrfmiddlewaretoken": client.cookies["csrftoken"]})
    assert response.status_code in (200, 400, 429), response.status_code
    return "refused" if REFUSED in response.text or response.status_code == 429 else "failed"


def test_failed_logins_are_counted_across_processes_through_redis(var_dir, redis_url):
    with web_process(var_dir, SHOPKEEP_REDIS_URL=redis_url) as one, \
            web_process(var_dir, SHOPKEEP_REDIS_URL=redis_url) as two:
        outcomes = [_failed_login(base, "victim@example.com")
                    for base in (one, two, one, two, one, two, one, two)]
    # 5 failures per account in 5 minutes (ACCOUNT_RATE_LIMITS), counted once for both.
    assert outcomes == ["failed"] * 5 + ["refused"] * 3


def test_without_redis_each_process_counts_alone(var_dir):
    """What the production warning is about: the per-process cache lets two processes take
    four attempts each for the same account (a shared limit would refuse from the sixth)."""
    with web_process(var_dir) as one, web_process(var_dir) as two:
        outcomes = [_failed_login(base, "victim@example.com")
                    for base in (one, two, one, two, one, two, one, two)]
    assert outcomes == ["failed"] * 8


def test_a_spoofed_forwarded_for_is_ignored_without_forwarded_allow_ips(var_dir, redis_url):
    with web_process(var_dir, SHOPKEEP_REDIS_URL=redis_url) as base:
        outcomes = [_failed_login(base, f"user{n}@example.com", forwarded_for=f"203.0.113.{n}")
                    for n in range(11)]
    # 10 failures a minute per address: every request is from 127.0.0.1 whatever it claims.
    assert outcomes == ["failed"] * 10 + ["refused"]


def test_the_forwarded_address_counts_with_forwarded_allow_ips(var_dir, redis_url):
    with web_process(var_dir, forwarded_allow_ips="127.0.0.1",
                     SHOPKEEP_REDIS_URL=redis_url) as base:
        spread = [_failed_login(base, f"user{n}@example.com", forwarded_for=f"203.0.113.{n}")
                  for n in range(11)]
        one_client = [_failed_login(base, f"other{n}@example.com", forwarded_for="198.51.100.7")
                      for n in range(11)]
    assert spread == ["failed"] * 11  # eleven clients behind the proxy, one failure each
    assert one_client == ["failed"] * 10 + ["refused"]


def test_serve_trusts_proxy_headers_only_when_told():
    assert "--no-proxy-headers" in uvicorn_argv(host="127.0.0.1", port=8000)
    argv = uvicorn_argv(host="127.0.0.1", port=8000, forwarded_allow_ips="10.0.0.5")
    assert argv[argv.index("--forwarded-allow-ips") + 1] == "10.0.0.5"
    assert "--proxy-headers" in argv and "--no-proxy-headers" not in argv
