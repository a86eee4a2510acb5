"""Platform staff console: store list and plan/status changes; invisible to everyone else."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from shopkeep.stores.models import AuditLog, Role, Store
from tests.factories import add_member, make_store, make_user, owner_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return make_store(slug="block-party", name="Block Party")


@pytest.fixture
def staff_user():
    return make_user("ops@example.com", is_staff=True)


@pytest.fixture
def as_staff(staff_user) -> Client:
    client = Client()
    client.force_login(staff_user)
    return client


def _state() -> tuple:
    return (sorted(Store.objects.values_list("pk", "plan", "status")),
            AuditLog.objects.count())


def _plan_url(store: Store) -> str:
    return reverse("staff:store_plan", args=[store.pk])


def _messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# -- who may enter --------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_login(client, store):
    url = reverse("staff:store_list")
    assert client.get(url)["Location"] == f"{reverse('account_login')}?next={url}"
    before = _state()
    response = client.post(_plan_url(store), {"plan": "pro", "status": "active"})
    assert response["Location"].startswith(reverse("account_login"))
    assert _state() == before


@pytest.mark.parametrize("who", ["plain user", "store owner", "store admin"])
def test_non_staff_get_404_on_every_staff_page_and_change_nothing(client, store, who):
    user = {"plain user": make_user,
            "store owner": lambda: owner_of(store),
            "store admin": lambda: add_member(store, Role.ADMIN).user}[who]()
    client.force_login(user)
    before = _state()
    assert client.get(reverse("staff:store_list")).status_code == 404
    assert client.get(_plan_url(store)).status_code == 404
    assert client.post(_plan_url(store), {"plan": "pro", "status": "active"}).status_code == 404
    assert _state() == before


# -- store list -----------------------------------------------------------------------------


def test_staff_list_every_store_with_member_counts(as_staff, store):
    add_member(store, Role.SUPPORT)
    other = make_store(slug="other-place", name="Other Place")
    response = as_staff.get(reverse("staff:store_list"))
    assert response.status_code == 200
    rows = {s.slug: s for s in response.context["page"]}
    assert set(rows) == {"block-party", "other-place"}
    assert rows["block-party"].member_count == 2
    assert rows["other-place"].member_count == 1
    assert store.public_id.encode() in response.content
    assert other.public_id.encode() in response.content


@pytest.mark.parametrize("query", ["block", "BLOCK-PARTY", "Party"])
def test_staff_search_by_name_or_address(as_staff, store, query):
    make_store(slug="other-place", name="Other Place")
    add_member(store, Role.ADMIN)
    response = as_staff.get(reverse("staff:store_list"), {"q": query})
    rows = list(response.context["page"])
    assert [s.slug for s in rows] == ["block-party"]
    assert rows[0].member_count == 2


def test_a_search_matching_nothing_lists_nothing(as_staff, store):
    response = as_staff.get(reverse("staff:store_list"), {"q": "zzz"})
    assert list(response.context["page"]) == []
    assert b"No stores." in response.content


# -- plan and status ------------------------------------------------------------------------


def test_staff_change_plan_and_status_with_one_audit_row(as_staff, store, staff_user):
    response = as_staff.post(_plan_url(store), {"plan": "pro", "status": "suspended"})
    assert response["Location"] == reverse("staff:store_list")
    store.refresh_from_db()
    assert (store.plan, store.status) == ("pro", "suspended")
    log = AuditLog.objects.get(action="store.plan_changed")
    assert (log.store, log.actor_user) == (store, staff_user)
    assert log.details == {"changes": {"plan": {"old": "free", "new": "pro"},
                                       "status": {"old": "active", "new": "suspended"}}}


def test_saving_the_same_plan_and_status_writes_no_audit_row(as_staff, store):
    before = _state()
    response = as_staff.post(_plan_url(store), {"plan": "free", "status": "active"})
    assert response.status_code == 302
    assert _state() == before


@pytest.mark.parametrize("data", [
    {"plan": "platinum", "status": "active"},
    {"plan": "pro", "status": "deleted"},
    {"plan": "pro"},
    {},
], ids=["bad-plan", "bad-status", "no-status", "empty"])
def test_a_bad_plan_or_status_shows_an_error_and_changes_nothing(as_staff, store, data):
    other = make_store(slug="other-place")
    before = _state()
    response = as_staff.post(_plan_url(store), data)
    assert response["Location"] == reverse("staff:store_list")
    assert _messages(response) == ["Choose a valid plan and status."]
    assert _state() == before
    other.refresh_from_db()
    assert other.plan == "free"


def test_an_unknown_store_is_404(as_staff, store):
    before = _state()
    response = as_staff.post(reverse("staff:store_plan", args=[999_999]),
                             {"plan": "pro", "status": "active"})
    assert response.status_code == 404
    assert _state() == before


def test_staff_can_close_a_store_which_then_leaves_its_owners_dashboard(as_staff, store):
    as_staff.post(_plan_url(store), {"plan": "free", "status": "closed"})
    owner = Client()
    owner.force_login(owner_of(store))
    assert owner.get(reverse("dashboard:overview", args=["block-party"])).status_code == 404


def test_changing_the_plan_needs_post(as_staff, store):
    before = _state()
    assert as_staff.get(_plan_url(store), {"plan": "pro", "status": "active"}).status_code == 405
    assert _state() == before
