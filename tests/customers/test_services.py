"""customer_get_or_create (checkout, sign-up) and customer_update (staff)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shopkeep.core.errors import PermissionDenied, ServiceError
from shopkeep.core.timefmt import iso
from shopkeep.customers.models import Customer
from shopkeep.customers.services import (
    CustomerInput,
    customer_get_or_create,
    customer_update,
    identity_of,
)
from shopkeep.events.models import Event
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import AuditLog, Role
from tests.customers.conftest import customer_state, store_for_game
from tests.customers.seed_examples import CUSTOMER_CREATED
from tests.factories import add_member, make_store, owner_of
from tests.payload_shape import assert_same_shape

pytestmark = pytest.mark.django_db

STEVE = CustomerInput(email="Player@Example.com", player_name="Steve", name="John Doe",
                      country="us")


# -- customer_get_or_create ------------------------------------------------------------------------


def test_a_new_customer_is_created_with_one_event_and_one_audit_row(store):
    customer, created = customer_get_or_create(store=store, data=STEVE)
    assert created is True
    assert (customer.store, customer.email, customer.player_name, customer.country) == (
        store, "player@example.com", "Steve", "US")
    assert len(customer.referral_code) == 8
    [event] = Event.objects.filter(store=store)
    assert event.event_type == "customer.created"
    assert event.data["id"] == customer.pk
    log = AuditLog.objects.get(store=store, action="customer.created")
    assert log.actor_user is None


def test_a_second_checkout_with_the_same_email_never_changes_the_stored_customer(store):
    """Issue 12: typing someone's e-mail proves nothing; only a paid order may update them."""
    first, _ = customer_get_or_create(store=store, data=STEVE)
    before = customer_state(store)
    audit_before = AuditLog.objects.filter(store=store).count()
    again, created = customer_get_or_create(store=store, data=replace(
        STEVE, email=" PLAYER@example.COM ", player_name="Alex", name="Mallory",
        steam_id="76561198000000009", discord_id="999999999999999999"))
    assert (created, again.pk) == (False, first.pk)
    assert customer_state(store) == before
    assert Customer.objects.get(pk=first.pk).player_name == "Steve"
    assert Event.objects.filter(store=store, event_type="customer.created").count() == 1
    assert AuditLog.objects.filter(store=store).count() == audit_before


def test_the_same_email_in_another_store_is_another_customer(store):
    mine, _ = customer_get_or_create(store=store, data=STEVE)
    other = make_store()
    theirs, created = customer_get_or_create(store=other, data=STEVE)
    assert created is True
    assert theirs.pk != mine.pk
    assert Event.objects.filter(store=other, event_type="customer.created").count() == 1


def test_a_referral_code_links_the_referrer_of_this_store_only(store):
    referrer, _ = customer_get_or_create(store=store, data=STEVE)
    referred, _ = customer_get_or_create(store=store, data=CustomerInput(
        email="friend@example.com", player_name="Alex",
        referred_by_code=referrer.referral_code.lower()))
    assert referred.referred_by_id == referrer.pk
    other = make_store()
    stranger, _ = customer_get_or_create(store=other, data=CustomerInput(
        email="x@example.com", player_name="Alex", referred_by_code=referrer.referral_code))
    assert stranger.referred_by_id is None


@pytest.mark.parametrize("player_name", [
    "Steve; op Steve", "Steve\nop Steve", "Steve op", "'; DROP TABLE--", "St", "St\u0435ve",
])
def test_hostile_player_names_are_refused_and_nothing_is_written(store, player_name):
    before = customer_state(store)
    with pytest.raises(ServiceError) as exc:
        customer_get_or_create(store=store, data=replace(STEVE, player_name=player_name))
    assert (exc.value.code, exc.value.field) == ("invalid_player", "player_name")
    assert customer_state(store) == before


def test_a_hostile_name_on_a_returning_customer_is_refused_and_changes_nothing(store):
    customer_get_or_create(store=store, data=STEVE)
    before = customer_state(store)
    with pytest.raises(ServiceError):
        identity_of(store, replace(STEVE, player_name="Steve\nop Steve"))
    assert customer_state(store) == before


@pytest.mark.parametrize(("changes", "code", "field"), [
    ({"email": "not-an-email"}, "invalid_email", "email"),
    ({"email": ""}, "invalid_email", "email"),
    ({"email": "a@b.com\nBcc: x@y.com"}, "invalid_email", "email"),
    ({"country": "XX"}, "invalid_country", "country"),
    ({"name": "John\nDoe"}, "invalid_text", "name"),
    ({"discord_username": "bad\x00name"}, "invalid_text", "discord_username"),
    ({"minecraft_uuid": "nope"}, "invalid_uuid", "minecraft_uuid"),
    ({"steam_id": "123"}, "invalid_steam_id", "steam_id"),
    ({"discord_id": "abc"}, "invalid_discord_id", "discord_id"),
])
def test_invalid_fields_are_refused_and_nothing_is_written(store, changes, code, field):
    before = customer_state(store)
    with pytest.raises(ServiceError) as exc:
        customer_get_or_create(store=store, data=replace(STEVE, **changes))
    assert (exc.value.code, exc.value.field) == (code, field)
    assert customer_state(store) == before


def test_on_a_steam_game_the_player_id_is_the_steam_id():
    store = store_for_game("rust")
    customer, _ = customer_get_or_create(store=store, data=replace(STEVE,
                                                            player_name="76561198000000001"))
    assert customer.steam_id == "76561198000000001"


def test_on_a_steam_game_a_player_name_is_refused():
    store = store_for_game("rust")
    before = customer_state(store)
    with pytest.raises(ServiceError):
        customer_get_or_create(store=store, data=STEVE)
    assert customer_state(store) == before


# -- customer.created payload ---------------------------------------------------------------


def test_customer_created_matches_the_seed(store):
    customer, _ = customer_get_or_create(store=store, data=replace(
        STEVE, discord_id="123456789012345678", discord_username="player#1234"))
    [event] = Event.objects.filter(store=store, event_type="customer.created")
    assert_same_shape(event.data, CUSTOMER_CREATED)
    assert event.data == {
        "id": customer.pk, "tenant_id": store.public_id, "email": "player@example.com",
        "name": "John Doe", "country": "US", "country_name": "United States",
        "discord_id": "123456789012345678", "discord_username": "player#1234",
        "steam_id": None, "steam_username": None, "referral_code": customer.referral_code,
        "referred_by_customer_id": None, "created_at": iso(customer.created_at),
    }


def test_customer_created_with_few_details_keeps_the_shape(store):
    referrer, _ = customer_get_or_create(store=store, data=STEVE)
    customer_get_or_create(store=store, data=CustomerInput(
        email="min@example.com", player_name="Alex", steam_id="76561198000000002",
        referred_by_code=referrer.referral_code))
    event = Event.objects.filter(store=store, event_type="customer.created").last()
    nullable = {"country": None, "country_name": None, "discord_id": None,
                "discord_username": None}
    assert_same_shape(event.data, CUSTOMER_CREATED | nullable)
    assert (event.data["steam_id"], event.data["referred_by_customer_id"]) == (
        "76561198000000002", referrer.pk)
    assert all(event.data[key] is None for key in nullable)


# -- customer_update ------------------------------------------------------------------------


@pytest.fixture
def customer(store):
    return customer_get_or_create(store=store, data=STEVE)[0]


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
def test_owner_and_admin_update_a_customer_with_one_audit_row(store, customer, role):
    user = owner_of(store) if role == Role.OWNER else add_member(store, role).user
    events_before = Event.objects.filter(store=store).count()
    customer_update(store=store, actor=Actor.for_user(user), customer=customer,
                    data=replace(STEVE, player_name="Alex", country="DE"))
    customer.refresh_from_db()
    assert (customer.player_name, customer.country) == ("Alex", "DE")
    log = AuditLog.objects.get(store=store, action="customer.updated")
    assert log.details["changes"] == {"country": {"old": "US", "new": "DE"},
                                      "player_name": {"old": "Steve", "new": "Alex"}}
    assert Event.objects.filter(store=store).count() == events_before  # no such event in 002


def test_support_cannot_update_customers(store, customer):
    support = add_member(store, Role.SUPPORT).user
    before = customer_state(store)
    with pytest.raises(PermissionDenied):
        customer_update(store=store, actor=Actor.for_user(support), customer=customer,
                        data=replace(STEVE, player_name="Alex"))
    assert customer_state(store) == before


def test_owner_of_another_store_cannot_update_customers_here(store, customer):
    outsider = owner_of(make_store())
    before = customer_state(store)
    with pytest.raises(PermissionDenied):
        customer_update(store=store, actor=Actor.for_user(outsider), customer=customer,
                        data=replace(STEVE, player_name="Alex"))
    assert customer_state(store) == before


def test_a_customer_of_another_store_cannot_be_updated_through_this_store(store, customer):
    other = make_store()
    before = customer_state(store)
    with pytest.raises(Customer.DoesNotExist):
        customer_update(store=other, actor=Actor.for_user(owner_of(other)), customer=customer,
                        data=replace(STEVE, player_name="Alex"))
    assert customer_state(store) == before


def test_an_update_with_a_hostile_name_changes_nothing(store, customer):
    before = customer_state(store)
    with pytest.raises(ServiceError):
        customer_update(store=store, actor=Actor.for_user(owner_of(store)), customer=customer,
                        data=replace(STEVE, player_name="Steve; op Steve"))
    assert customer_state(store) == before
