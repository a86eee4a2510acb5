"""Every generated absolute link points at the port `shopkeep serve` really listens on.

The server runs on a free (never 8000) port with SHOPKEEP_SITE_URL unset, as a first run
does; links are collected from the demo output, the pages that show them (agent config,
Stripe webhook URL) and every e-mail the worker sends, then followed.
"""

from __future__ import annotations

import re
import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.serving import clean_env, free_port, serve_demo

URL_RE = re.compile(r"https?://[^\s\"'<>]+")


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return clean_env(tmp_path, SHOPKEEP_EMAIL_BACKEND="file", **extra)


@pytest.fixture
def served_elsewhere(tmp_path):
    port = free_port()
    assert port != 8000
    env = _env(tmp_path)
    # `make run` runs `demo` then `serve` with the same SHOPKEEP_PORT; serve gets the port on
    # its command line only: it must publish it to its children.
    with serve_demo(env, port, demo_env={**env, "SHOPKEEP_PORT": str(port)},
                    stop=signal.SIGTERM) as (base, demo_output, _proc):
        yield base, demo_output, tmp_path


def _post(client: httpx.Client, path: str, data: dict) -> httpx.Response:
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    return client.post(path, data={**data, "csrfmiddlewaretoken": token},
                       headers={"Referer": str(page.url)})


def _mails(var_dir: Path, want: int) -> str:
    folder = var_dir / "mail"
    deadline = time.monotonic() + 45
    text = ""
    while time.monotonic() < deadline:
        files = sorted(folder.glob("*.log")) if folder.exists() else []
        text = "\n".join(f.read_text(encoding="utf-8", errors="replace") for f in files)
        if text.count("Message-ID:") >= want:
            return text
        time.sleep(0.3)
    pytest.fail(f"expected {want} e-mails, got:\n{text}")


def test_every_generated_link_uses_the_port_serve_listens_on(served_elsewhere):
    base, demo_output, var_dir = served_elsewhere
    links: dict[str, str] = {}
    for line in demo_output.splitlines():
        if "Demo store ready:" in line or "Storefront:" in line:
            links[line.split(":")[0].strip()] = line.split()[-1]
    assert len(links) == 2
    email, _slash, password = demo_output.split("Owner login:")[1].split()[:3]

    with httpx.Client(base_url=base, follow_redirects=True, timeout=10) as owner:
        signed_in = _post(owner, "/accounts/login/", {"login": email, "password": password})
        assert "/dashboard/demo/" in str(signed_in.url)
        servers = owner.get("/dashboard/demo/servers/").text
        server_path = re.search(r'href="(/dashboard/demo/servers/\d+/)"', servers).group(1)
        page = owner.get(server_path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        # The config (with the secrets) is shown right after they are made.
        config = owner.post(server_path + "rotate/", data={"csrfmiddlewaretoken": token},
                            headers={"Referer": str(page.url)}).text
        links["agent config"] = re.search(r'url = (?:&quot;|")([^&"]+)', config).group(1)
        payments = owner.get("/dashboard/demo/settings/payments/").text
        links["stripe webhook"] = re.search(r"https?://[^\s<\"]+/pay/stripe/[^\s<\"]+",
                                            payments).group(0)

    with httpx.Client(base_url=base, follow_redirects=True, timeout=10) as visitor:
        # allauth's verification mail, the storefront sign-in link and both ticket mails.
        _post(visitor, "/accounts/signup/", {"email": "new-owner@example.com",
                                             "password1": "a-Long-pass-9931",
                                             "password2": "a-Long-pass-9931"})
        _post(visitor, "/s/demo/account/signup/", {"email": "buyer@example.com",
                                                   "player_name": "Buyer_1"})
        form = visitor.get("/s/demo/support/new/").text
        category = re.search(r'<option value="([^"]+)"', form).group(1)
        _post(visitor, "/s/demo/support/new/", {
            "email": "asker@example.com", "subject": "Where is my rank?", "category": category,
            "priority": "normal", "message": "I bought VIP an hour ago."})
    mail = _mails(var_dir, want=4)
    mailed = URL_RE.findall(mail)
    assert len(mailed) >= 4
    for number, url in enumerate(mailed):
        links[f"mail {number}"] = url.rstrip(".,)")

    print("\n".join(f"{name}: {url}" for name, url in links.items()))
    for name, url in links.items():
        assert url == base or url.startswith(base + "/"), (name, url)
    with httpx.Client(follow_redirects=True, timeout=10) as follower:
        for name, url in links.items():
            if "/pay/stripe/" in url:
                continue  # a POST-only endpoint for Stripe; its path is checked above
            response = follower.get(url)
            assert response.status_code == 200, (name, url, response.status_code)
