"""Where people land after signing in."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress

from tests.factories import make_store, make_user, owner_of

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-and-unusual-passphrase"


def _sign_in(client, user, *, next_url: str = ""):
    user.set_password(PASSWORD)
    user.save()
    EmailAddress.objects.update_or_create(user=user, email=user.email,
                                          defaults={"verified": True, "primary": True})
    url = "/accounts/login/" + (f"?next={next_url}" if next_url else "")
    return client.post(url, {"login": user.email, "password": PASSWORD})


def test_platform_staff_land_on_the_staff_console(client):
    response = _sign_in(client, make_user("staff@example.com", is_staff=True))
    assert response.status_code == 302
    assert response["Location"] == "/staff/"


def test_store_owners_land_on_their_dashboard(client):
    owner = owner_of(make_store(slug="blocky"))
    response = _sign_in(client, owner)
    assert response["Location"] == "/dashboard/"


def test_a_next_link_still_wins_for_staff(client):
    response = _sign_in(client, make_user("staff2@example.com", is_staff=True),
                        next_url="/dashboard/new-store/")
    assert response["Location"] == "/dashboard/new-store/"
