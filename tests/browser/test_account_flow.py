"""A new owner's first session, in a real Chromium: sign up, verify, 2FA, API token."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

from shopkeep.stores.models import ApiToken, Membership, Store

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "newowner@example.com"
PASSWORD = "a-long-and-unusual-passphrase"


def _totp(secret: str, *, after_counter: int | None = None) -> tuple[str, int]:
    """The current code; waits for a fresh 30 s window when ``after_counter`` was used already
    (allauth refuses a code that was just accepted, as it should)."""
    while True:
        counter = int(time.time()) // 30
        if after_counter is None or counter > after_counter:
            return format_hotp_value(hotp_value(secret, counter)), counter
        time.sleep(0.5)


def test_owner_signs_up_enables_totp_logs_back_in_and_calls_the_api(live_server, page,
                                                                    mailoutbox):
    base = live_server.url

    # Sign up; no access until the e-mail address is verified.
    page.goto(f"{base}/accounts/signup/")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/confirm-email/"))
    assert len(mailoutbox) == 1
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mailoutbox[0].body).group(0)
    page.goto(base + link[link.index("/accounts/"):])
    page.click("main form button[type=submit]")

    # Verified and signed in: the dashboard asks for a store first.
    page.wait_for_url(re.compile(r"/dashboard/new-store/"))
    page.fill("input[name=name]", "Blocky Realms")
    page.fill("input[name=slug]", "blocky-realms")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/dashboard/blocky-realms/$"))
    assert Membership.objects.get(store__slug="blocky-realms").user.email == EMAIL

    # Enable TOTP with the secret the page shows.
    page.goto(f"{base}/accounts/2fa/totp/activate/")
    if "/accounts/reauthenticate/" in page.url:
        # Security-sensitive changes ask for the password again (allauth's reauthentication).
        page.fill("input[name=password]", PASSWORD)
        page.click("main form button[type=submit]")
        page.wait_for_url(re.compile(r"/accounts/2fa/totp/activate/"))
    secret = page.input_value("#authenticator_secret")
    code, used_counter = _totp(secret)
    page.fill("input[name=code]", code)
    page.click("main form button[type=submit]")
    page.wait_for_url(lambda url: "/totp/activate/" not in url)

    # Sign out, then sign in: the password alone is not enough any more.
    page.goto(f"{base}/dashboard/")
    page.click("header form button:has-text('Sign out')")
    page.wait_for_url(re.compile(r"/accounts/"))
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
    code, _ = _totp(secret, after_counter=used_counter)
    page.fill("input[name=code]", code)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/dashboard/blocky-realms/$"))

    # Create an API token; the key is shown once and works against the API.
    page.goto(f"{base}/dashboard/blocky-realms/settings/tokens/")
    page.fill("input[name=name]", "deploy bot")
    page.check("input[name=scopes][value='store:read']")
    page.click("main form.card button[type=submit]")
    raw = page.text_content("#new-token-value").strip()
    assert raw.startswith("sk_")
    assert not ApiToken.objects.filter(key_hash=raw).exists()  # only the digest is stored

    response = httpx.get(f"{base}/api/v1/store", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200
    store = Store.objects.get(slug="blocky-realms")
    assert response.json()["id"] == store.public_id
    assert response.json()["name"] == "Blocky Realms"

    # The key is not shown again.
    page.reload()
    assert page.locator("#new-token-value").count() == 0
    assert page.csp_violations == []
