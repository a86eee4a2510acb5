"""Every dashboard route is in a table that the tenancy tests walk, so a new route cannot
ship without an outsider test: adding one to dashboard/views.py fails
``test_every_dashboard_shell_route_is_in_the_table`` until it is listed here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import URLPattern, reverse

from shopkeep.dashboard import urls as dashboard_urls
from shopkeep.events.models import Event
from shopkeep.stores.models import ApiToken, AuditLog, Membership, Role, Store
from tests.factories import add_member, make_store, make_token, owner_of


@dataclass(frozen=True)
class Route:
    method: str
    # URL arguments after the store slug, built from the target store; None: not store-scoped.
    args: Callable[[Store], list] | None
    data: dict
    support_status: int | None  # what a support member of the store gets


def _member_id(store: Store) -> list:
    return [add_member(store, Role.ADMIN).pk]


def _token_id(store: Store) -> list:
    return [make_token(store, ["store:read"])[0].pk]


ROUTES: dict[str, Route] = {
    "home": Route("GET", None, {}, None),
    "store_create": Route("POST", None, {"name": "X", "slug": "x-store", "currency": "USD",
                                         "time_zone": "UTC"}, None),
    "overview": Route("GET", lambda s: [], {}, 200),
    "settings": Route("POST", lambda s: [], {"name": "Hijacked", "currency": "EUR",
                                             "time_zone": "UTC", "game": "rust"}, 403),
    "members": Route("POST", lambda s: [], {"email": "outsider@example.com",
                                            "role": "owner"}, 403),
    "member_role": Route("POST", _member_id, {"role": "owner"}, 403),
    "member_remove": Route("POST", _member_id, {}, 403),
    "tokens": Route("POST", lambda s: [], {"name": "x", "scopes": ["store:read"]}, 403),
    "token_revoke": Route("POST", _token_id, {}, 403),
    "audit": Route("GET", lambda s: [], {}, 403),
    "approval_request": Route("POST", lambda s: [], {"note": "let me in"}, 403),
}

# Routes served by other modules, each with its own outsider tests (tests/dashboard/...).
OTHER_MODULES = {"shopkeep.dashboard.views_analytics",  # tests/dashboard/test_analytics.py
                 "shopkeep.dashboard.views_commands",  # tests/dashboard/test_adhoc_views.py
                 "shopkeep.dashboard.views_catalog", "shopkeep.dashboard.views_customers",
                 "shopkeep.dashboard.views_orders", "shopkeep.dashboard.views_subscriptions",
                 "shopkeep.dashboard.views_payments", "shopkeep.dashboard.views_servers",
                 # tests/support/test_permissions.py
                 "shopkeep.dashboard.views_support",
                 "shopkeep.dashboard.views_platform_support",
                 "shopkeep.dashboard.views_webhooks",  # tests/webhooks/test_dashboard.py
                 "shopkeep.dashboard.views_promotions",  # tests/promotions/test_dashboard.py
                 "shopkeep.dashboard.views_tiers",  # tests/promotions/test_tiers_dashboard.py
                 "shopkeep.dashboard.views_emails",  # tests/notifications/test_dashboard.py
                 "shopkeep.dashboard.views_builder",  # tests/dashboard/test_store_builder.py
                 "shopkeep.dashboard.views_tax",  # tests/orders/test_tax_dashboard.py
                 "shopkeep.dashboard.views_discord",  # tests/dashboard/test_discord_views.py
                 "shopkeep.dashboard.views_gallery",  # tests/dashboard/test_gallery_views.py
                 "shopkeep.dashboard.views_signin",  # tests/signin/test_settings.py
                 "shopkeep.dashboard.views_plan"}  # tests/platform/test_billing.py
STORE_SCOPED = sorted(name for name, route in ROUTES.items() if route.args is not None)


def _patterns() -> list[URLPattern]:
    return [p for p in dashboard_urls.urlpatterns if isinstance(p, URLPattern)]


def _state() -> tuple:
    return (sorted(Store.objects.values_list("pk", "name", "slug", "currency", "plan",
                                             "status", "live_approval")),
            sorted(Membership.objects.values_list("pk", "store_id", "user_id", "role")),
            sorted(ApiToken.objects.values_list("pk", "store_id", "revoked_at")),
            AuditLog.objects.count(), Event.objects.count())


# -- the table is complete ------------------------------------------------------------------


def test_every_dashboard_shell_route_is_in_the_table():
    shell = {p.name for p in _patterns() if p.callback.__module__ == "shopkeep.dashboard.views"}
    assert shell == set(ROUTES)


def test_every_dashboard_route_belongs_to_a_known_module():
    modules = {p.callback.__module__ for p in _patterns()}
    assert modules <= {"shopkeep.dashboard.views", *OTHER_MODULES}


def test_every_store_scoped_shell_route_takes_the_store_slug():
    for pattern in _patterns():
        if pattern.name in ROUTES:
            takes_slug = "store_slug" in pattern.pattern.converters
            assert takes_slug == (ROUTES[pattern.name].args is not None), pattern.name


# -- walking the table ----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", STORE_SCOPED)
def test_an_outsider_gets_404_on_every_store_route_and_changes_nothing(name):
    store = make_store(slug="target", name="Target Store")
    outsider = Client()
    outsider.force_login(owner_of(make_store(slug="outside")))
    url = reverse(f"dashboard:{name}", args=["target", *ROUTES[name].args(store)])
    before = _state()

    for method in ("GET", "POST"):
        response = (outsider.get if method == "GET" else outsider.post)(url, ROUTES[name].data)
        # POST-only routes answer a GET with 405 for every slug, before looking at the store,
        # so that says nothing about the store either.
        allowed = {404, 405} if method == "GET" and ROUTES[name].method == "POST" else {404}
        assert response.status_code in allowed, (method, response.status_code)
        assert b"Target Store" not in response.content

    assert _state() == before


@pytest.mark.django_db
@pytest.mark.parametrize("name", STORE_SCOPED)
def test_a_missing_store_and_a_foreign_store_answer_alike(name):
    store = make_store(slug="target")
    outsider = Client()
    outsider.force_login(owner_of(make_store(slug="outside")))
    route = ROUTES[name]
    args = route.args(store)
    call = outsider.post if route.method == "POST" else outsider.get
    foreign = call(reverse(f"dashboard:{name}", args=["target", *args]), route.data)
    missing = call(reverse(f"dashboard:{name}", args=["no-such-store", *args]), route.data)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.content == missing.content


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(ROUTES))
def test_anonymous_visitors_are_sent_to_login_and_change_nothing(name):
    store = make_store(slug="target")
    route = ROUTES[name]
    args = [] if route.args is None else ["target", *route.args(store)]
    url = reverse(f"dashboard:{name}", args=args)
    before = _state()
    client = Client()
    response = (client.post if route.method == "POST" else client.get)(url, route.data)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={url}"
    assert _state() == before


@pytest.mark.django_db
@pytest.mark.parametrize("name", STORE_SCOPED)
def test_a_support_member_gets_what_the_role_matrix_allows(name):
    store = make_store(slug="target")
    client = Client()
    client.force_login(add_member(store, Role.SUPPORT).user)
    route = ROUTES[name]
    url = reverse(f"dashboard:{name}", args=["target", *route.args(store)])
    before = _state()
    response = (client.post if route.method == "POST" else client.get)(url, route.data)
    assert response.status_code == route.support_status
    if route.support_status == 403:
        assert _state() == before


@pytest.mark.django_db
def test_an_outsiders_home_never_leads_to_another_store():
    make_store(slug="target")
    outsider = Client()
    outsider.force_login(owner_of(make_store(slug="outside")))
    session = outsider.session
    session["shopkeep_store"] = "target"  # a stale or forged preference
    session.save()
    response = outsider.get(reverse("dashboard:home"))
    assert response["Location"] == reverse("dashboard:overview", args=["outside"])
