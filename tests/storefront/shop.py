"""Helpers for storefront tests: URLs of the "shop" store, checkout data, sign-in links."""

from __future__ import annotations

from django.core import signing
from django.urls import reverse

from shopkeep.storefront.views import LOGIN_SALT

SLUG = "shop"


def url(name: str, *args, slug: str = SLUG) -> str:
    return reverse(f"storefront:{name}", args=[slug, *args])


def checkout_data(**overrides) -> dict:
    data = {"email": "Steve@Example.com", "player_name": "Steve_01", "name": "Steve",
            "accept_terms": "on"}
    data.update(overrides)
    return data


def login_token(store, customer) -> str:
    return signing.TimestampSigner(salt=LOGIN_SALT).sign_object({"c": customer.pk,
                                                                 "s": store.pk})


def sign_in(client, store, customer) -> None:
    response = client.get(url("account_verify", login_token(store, customer), slug=store.slug))
    assert response.status_code == 302
    assert response["Location"] == url("account", slug=store.slug)
