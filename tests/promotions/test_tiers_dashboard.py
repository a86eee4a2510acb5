"""Promotions > Tier groups in the dashboard: the form, roles, outsiders."""

from __future__ import annotations

import pytest
from django.urls import reverse

from shopkeep.promotions.models import Tier, TierGroup
from shopkeep.promotions.tiers import TierGroupInput, tier_group_create
from shopkeep.stores.models import AuditLog, Role
from tests.commerce import make_product, make_shop
from tests.factories import add_member, owner_of
from tests.promotions.helpers import owner
from tests.promotions.test_dashboard import _client

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return make_shop(slug="target", name="Target Store")


@pytest.fixture
def ranks(store):
    return [make_product(store, name=n, price=p, purchase_command=None)
            for n, p in (("VIP", "10.00"), ("MVP", "25.00"), ("Legend", "40.00"))]


def _url(name, store, *args):
    return reverse(f"dashboard:{name}", args=[store.slug, *args])


def _state():
    return (sorted(TierGroup.objects.values_list("pk", "name")),
            sorted(Tier.objects.values_list("group_id", "product_id", "rank")),
            AuditLog.objects.count())


def _group(store, ranks):
    return tier_group_create(store=store, actor=owner(store), data=TierGroupInput(
        name="Ranks", product_ids=[p.pk for p in ranks[:2]]))


def test_a_ladder_is_built_from_the_form_lowest_first(store, ranks):
    client = _client(owner_of(store))
    vip, mvp, legend = ranks
    response = client.post(_url("tier_group_create", store), {
        "name": "Ranks", "tier_1": vip.pk, "tier_2": mvp.pk, "tier_3": "", "tier_4": legend.pk},
        follow=True)
    assert response.status_code == 200
    assert "VIP &lt; MVP &lt; Legend" in response.content.decode()
    group = TierGroup.objects.get()
    assert [t.product_id for t in group.tiers.order_by("rank")] == [vip.pk, mvp.pk, legend.pk]
    edit = client.post(_url("tier_group_edit", store, group.pk), {
        "name": "Ranks", "tier_1": mvp.pk, "tier_2": legend.pk})
    assert edit.status_code == 302
    assert [t.product_id for t in group.tiers.order_by("rank")] == [mvp.pk, legend.pk]


def test_a_bad_ladder_shows_the_reason_and_saves_nothing(store, ranks):
    client = _client(owner_of(store))
    _group(store, ranks)
    before = _state()
    response = client.post(_url("tier_group_create", store), {
        "name": "Other", "tier_1": ranks[0].pk, "tier_2": ranks[2].pk})
    assert response.status_code == 400
    assert "already a tier of Ranks" in response.content.decode()
    assert _state() == before


def test_support_members_see_ladders_but_change_nothing(store, ranks):
    group = _group(store, ranks)
    support = _client(add_member(store, Role.SUPPORT).user)
    assert support.get(_url("tier_groups", store)).status_code == 200
    before = _state()
    for name, args in (("tier_group_create", []), ("tier_group_edit", [group.pk]),
                       ("tier_group_delete", [group.pk])):
        response = support.post(_url(name, store, *args), {
            "name": "Mine", "tier_1": ranks[1].pk, "tier_2": ranks[2].pk})
        assert response.status_code == 403, name
    assert _state() == before


@pytest.mark.parametrize("name", ["tier_groups", "tier_group_create", "tier_group_edit",
                                  "tier_group_delete"])
def test_an_outsider_gets_404_and_changes_nothing(store, ranks, name):
    group = _group(store, ranks)
    outsider = _client(owner_of(make_shop(slug="outside")))
    url = _url(name, store, *([group.pk] if "edit" in name or "delete" in name else []))
    before = _state()
    for call in (outsider.get, outsider.post):
        response = call(url, {"name": "Hack", "tier_1": ranks[0].pk, "tier_2": ranks[2].pk})
        assert response.status_code in (404, 405)
        assert b"Target Store" not in response.content
    assert _state() == before
