"""Integers beyond 64 bits in the paths and forms of the HTML pages never answer 500.

Every URL pattern with an ``<int:...>`` argument is requested with 2**70 in it, as the
store's owner and as platform staff (so the views run past their permission checks)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.commerce import make_product
from tests.factories import make_store, make_user, owner_of

pytestmark = pytest.mark.django_db

HUGE = 2**70


def _routes(resolver: URLResolver, prefix: str = ""):
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _routes(entry, route)
        elif isinstance(entry, URLPattern):
            yield route


def test_every_int_path_argument_of_the_pages_is_a_clean_4xx_at_2_to_the_70():
    store = make_store(slug="shop")
    staff = make_user(is_staff=True)
    routes = sorted({r for r in _routes(get_resolver())
                     if "<int:" in r and not r.startswith("api/")})
    assert len(routes) > 20
    failures = []
    for user in (owner_of(store), staff):
        client = Client(raise_request_exception=False)
        client.force_login(user)
        for route in routes:
            path = "/" + re.sub(r"<(\w+):(\w+)>", lambda m: str(HUGE) if m.group(1) == "int"
                                else "shop", route)
            for method in ("get", "post"):
                response = getattr(client, method)(path)
                if response.status_code >= 500:
                    failures.append(f"{method.upper()} {path}: {response.status_code}")
    assert failures == []


def test_the_basket_refuses_a_product_id_beyond_64_bits_and_non_ascii_digits():
    store = make_store(slug="shop")
    make_product(store)
    client = Client(raise_request_exception=False)
    for value in (str(HUGE), "\u0661\u0662", "1_0"):
        response = client.post("/s/shop/basket/", {"product_id": value, "quantity": "1"})
        assert response.status_code == 404, value
    assert client.session.get("basket") in (None, {}, [])


def test_an_out_of_range_id_that_reaches_the_database_is_404_on_pages_and_422_in_the_api():
    from django.db import connection, transaction
    from django.test import RequestFactory

    from shopkeep.core.middleware import OutOfRangeMiddleware, is_out_of_range

    # What Django does not range-check (a foreign-key filter on SQLite, raw SQL) the database
    # refuses: SQLite cannot bind the int, PostgreSQL's bigint cast overflows (22003).
    try:
        # A savepoint: on PostgreSQL the failed statement would abort the test's transaction.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT CAST(%s AS BIGINT)", [HUGE])
    except Exception as exc:
        error = exc
    else:
        pytest.fail("the database accepted a 70-bit id")
    assert is_out_of_range(error)
    assert not is_out_of_range(OverflowError("math range error"))
    middleware = OutOfRangeMiddleware(lambda request: None)
    page = middleware.process_exception(RequestFactory().get("/dashboard/x/"), error)
    assert page.status_code == 404
    api = middleware.process_exception(RequestFactory().get("/api/v1/x"), error)
    assert api.status_code == 422
    assert middleware.process_exception(RequestFactory().get("/"), ValueError("x")) is None


def test_the_command_editor_refuses_a_server_id_beyond_64_bits_and_changes_nothing():
    from shopkeep.catalog.models import DeliveryAction
    from shopkeep.delivery.services import server_create
    from shopkeep.stores.audit import Actor

    store = make_store(slug="shop")
    server_create(store=store, actor=Actor.for_user(owner_of(store)), name="Survival")
    product = make_product(store, purchase_command=None)
    client = Client(raise_request_exception=False)
    client.force_login(owner_of(store))
    response = client.post(f"/dashboard/shop/products/{product.pk}/commands/purchase/", {
        "action-TOTAL_FORMS": "1", "action-INITIAL_FORMS": "0", "action-MIN_NUM_FORMS": "0",
        "action-MAX_NUM_FORMS": "20", "action-0-commands": "say hi",
        "action-0-delay_after_join": "0", "action-0-servers": [str(HUGE)]})
    assert response.status_code in (200, 400)
    assert "valid choice" in response.content.decode()
    assert not DeliveryAction.objects.filter(product=product).exists()
