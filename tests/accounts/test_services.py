"""user_create, and the allauth settings that keep unverified sign-ups out of the dashboard."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse

from shopkeep.accounts.models import User
from shopkeep.accounts.services import user_create
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db

SIGNUP_PASSWORD = "plover-anvil-teacup-93"


def _state() -> tuple:
    return (sorted(User.objects.values_list("pk", "email", "is_staff")),
            sorted(EmailAddress.objects.values_list("pk", "email", "verified")))


# -- user_create ----------------------------------------------------------------------------


def test_user_create_normalises_the_email_and_records_it_for_allauth():
    user = user_create(email="  Player.One@Example.COM ", password=PASSWORD, name="P1")
    user.refresh_from_db()
    assert user.email == "player.one@example.com"
    assert user.name == "P1"
    assert user.check_password(PASSWORD)
    assert user.password != PASSWORD
    assert (user.is_staff, user.is_superuser, user.is_active) == (False, False, True)
    address = EmailAddress.objects.get(user=user)
    assert (address.email, address.primary, address.verified) == (
        "player.one@example.com", True, False)


def test_user_create_can_mark_the_address_verified_and_make_staff():
    user = user_create(email="ops@example.com", password=PASSWORD, is_staff=True,
                       email_verified=True)
    assert user.is_staff
    assert EmailAddress.objects.get(user=user).verified


@pytest.mark.parametrize("email", ["taken@example.com", "TAKEN@example.com",
                                   "  Taken@Example.com  "])
def test_a_duplicate_email_is_refused_whatever_its_case_and_nothing_is_written(email):
    make_user("taken@example.com")
    before = _state()
    with pytest.raises(ValueError, match="already exists"):
        user_create(email=email, password=PASSWORD)
    assert _state() == before


def test_an_empty_email_is_refused_and_nothing_is_written():
    before = _state()
    with pytest.raises(ValueError):
        user_create(email="   ", password=PASSWORD)
    assert _state() == before


# -- allauth configuration ------------------------------------------------------------------


def test_the_settings_require_a_verified_email_login():
    assert settings.ACCOUNT_EMAIL_VERIFICATION == "mandatory"
    login_methods = settings.ACCOUNT_LOGIN_METHODS
    assert login_methods == {"email"}
    assert settings.ACCOUNT_UNIQUE_EMAIL is True
    assert settings.ACCOUNT_CONFIRM_EMAIL_ON_GET is False
    assert settings.LOGIN_URL == "account_login"


def test_the_login_page_renders(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b'name="login"' in response.content
    assert b'name="password"' in response.content


def test_the_signup_page_asks_for_email_and_password_only(client):
    response = client.get("/accounts/signup/")
    assert response.status_code == 200
    assert b'name="email"' in response.content
    assert b'name="password1"' in response.content
    assert b'name="username"' not in response.content


def _sign_up(client: Client, email: str = "newbie@example.com"):
    return client.post("/accounts/signup/", {"email": email, "password1": SIGNUP_PASSWORD,
                                             "password2": SIGNUP_PASSWORD})


def _confirmation_path() -> str:
    (message,) = mail.outbox
    match = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_signup_without_verification_cannot_reach_the_dashboard(client):
    response = _sign_up(client, "Newbie@Example.com")
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    user = User.objects.get(email="newbie@example.com")
    assert not EmailAddress.objects.get(user=user).verified
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["newbie@example.com"]
    assert mail.outbox[0].subject.startswith("[Shopkeep] ")

    dashboard = client.get(reverse("dashboard:home"))
    assert dashboard.status_code == 302
    assert dashboard["Location"].startswith(reverse("account_login"))
    assert "_auth_user_id" not in client.session


def test_an_unverified_user_cannot_log_in_to_the_dashboard(client):
    _sign_up(client)
    fresh = Client()
    response = fresh.post("/accounts/login/", {"login": "newbie@example.com",
                                               "password": SIGNUP_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in fresh.session
    assert fresh.get(reverse("dashboard:home"))["Location"].startswith(reverse("account_login"))


def test_confirming_the_email_logs_in_and_opens_the_dashboard(client):
    _sign_up(client)
    path = _confirmation_path()

    page = client.get(path)
    assert page.status_code == 200
    user = User.objects.get(email="newbie@example.com")
    assert not EmailAddress.objects.get(user=user).verified  # GET alone confirms nothing

    response = client.post(path)
    assert response.status_code == 302
    assert EmailAddress.objects.get(user=user).verified
    home = client.get(reverse("dashboard:home"))
    assert home["Location"] == reverse("dashboard:store_create")


def test_a_verified_user_logs_in_with_email_and_password(client):
    make_user("owner@example.com")
    response = client.post("/accounts/login/", {"login": "OWNER@example.com",
                                                "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:home")
    assert client.get(reverse("dashboard:home"))["Location"] == reverse(
        "dashboard:store_create")


def test_a_wrong_password_does_not_log_in(client):
    make_user("owner@example.com")
    response = client.post("/accounts/login/", {"login": "owner@example.com",
                                                "password": "wrong-password-123"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_signing_up_with_a_taken_email_creates_no_second_account(client):
    make_user("taken@example.com")
    before = _state()
    response = _sign_up(client, "Taken@Example.com")
    assert "_auth_user_id" not in client.session
    assert response.status_code in (200, 302)
    assert _state() == before
