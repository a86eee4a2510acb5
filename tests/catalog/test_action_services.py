"""delivery_actions_set: the command editor saves one trigger's actions at a time."""

from __future__ import annotations

import pytest

from shopkeep.catalog import selectors
from shopkeep.catalog.models import DeliveryAction
from shopkeep.catalog.placeholders import MAX_COMMAND_LENGTH, MAX_COMMANDS, PLACEHOLDERS
from shopkeep.catalog.services import (
    ActionInput,
    ProductInput,
    delivery_actions_set,
    product_create,
    product_delete,
)
from shopkeep.core.errors import PermissionDenied, ServiceError
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import AuditLog, Role
from tests.catalog.state import catalog_state, events
from tests.factories import add_member, make_store, owner_of

pytestmark = pytest.mark.django_db

TRIGGERS = DeliveryAction.Trigger.values


@pytest.fixture
def product(store, actor):
    return product_create(store=store, actor=actor, data=ProductInput(name="VIP", price="5"))


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_actions_are_saved_per_trigger_without_an_event(store, actor, product, trigger):
    events_before = len(events(store))
    rows = delivery_actions_set(store=store, actor=actor, product=product, trigger=trigger,
                                actions=[ActionInput(commands=["  lp user {player} group add vip ",
                                                               "", "say thanks {player}"])])
    assert [r.commands for r in rows] == [["lp user {player} group add vip",
                                           "say thanks {player}"]]
    grouped = selectors.actions_by_trigger(product=product)
    assert [a.commands for a in grouped[trigger]] == [r.commands for r in rows]
    assert all(grouped[t] == [] for t in TRIGGERS if t != trigger)
    assert len(events(store)) == events_before
    log = AuditLog.objects.get(store=store, action="product.delivery_actions_set")
    assert log.details["trigger"] == trigger


def test_saving_a_trigger_replaces_only_that_triggers_actions(store, actor, product):
    delivery_actions_set(store=store, actor=actor, product=product, trigger="purchase",
                         actions=[ActionInput(commands=["give {player} diamond"])])
    delivery_actions_set(store=store, actor=actor, product=product, trigger="refund",
                         actions=[ActionInput(commands=["clear {player} diamond"])])
    delivery_actions_set(store=store, actor=actor, product=product, trigger="purchase",
                         actions=[ActionInput(commands=["give {player} emerald"]),
                                  ActionInput(commands=["say {player} bought"],
                                              require_online=True)])
    purchase = list(selectors.actions(product=product, trigger="purchase"))
    assert [(a.commands, a.require_online, a.sort_order) for a in purchase] == [
        (["give {player} emerald"], False, 0), (["say {player} bought"], True, 1)]
    assert [a.commands for a in selectors.actions(product=product, trigger="refund")] == [
        ["clear {player} diamond"]]


def test_an_empty_list_clears_the_trigger(store, actor, product):
    delivery_actions_set(store=store, actor=actor, product=product, trigger="purchase",
                         actions=[ActionInput(commands=["give {player} diamond"])])
    delivery_actions_set(store=store, actor=actor, product=product, trigger="purchase",
                         actions=[ActionInput(commands=["   ", ""])])
    assert not DeliveryAction.objects.filter(product=product).exists()


def test_require_online_is_allowed_for_purchase(store, actor, product):
    [row] = delivery_actions_set(store=store, actor=actor, product=product, trigger="purchase",
                                 actions=[ActionInput(commands=["give {player} 1"],
                                                      require_online=True)])
    assert row.require_online is True


@pytest.mark.parametrize("trigger", ["refund", "chargeback", "subscription_cancel"])
def test_require_online_is_refused_for_triggers_that_run_at_once(store, actor, product,
                                                                   trigger):
    before = catalog_state(store)
    with pytest.raises(ServiceError) as exc:
        delivery_actions_set(store=store, actor=actor, product=product, trigger=trigger,
                             actions=[ActionInput(commands=["ban {player}"],
                                                  require_online=True)])
    assert (exc.value.code, exc.value.field) == ("invalid_action", "require_online")
    assert catalog_state(store) == before


@pytest.mark.parametrize("command", [
    "give {player} {item}",
    "say {email}",
    "lp user {player} {group_name}",
])
def test_unknown_placeholders_are_refused(store, actor, product, command):
    delivery_actions_set(store=store, actor=actor, product=product, trigger="purchase",
                         actions=[ActionInput(commands=["say kept"])])
    before = catalog_state(store)
    with pytest.raises(ServiceError) as exc:
        delivery_actions_set(store=store, actor=actor, product=product, trigger="purchase",
                             actions=[ActionInput(commands=["say ok", command])])
    assert (exc.value.code, exc.value.field) == ("invalid_command", "commands")
    assert catalog_state(store) == before  # the old actions stay


def test_every_documented_placeholder_is_accepted(store, actor, product):
    command = "note " + " ".join("{" + name + "}" for name in PLACEHOLDERS)
    [row] = delivery_actions_set(store=store, actor=actor, product=product, trigger="purchase",
                                 actions=[ActionInput(commands=[command])])
    assert row.commands == [command]


@pytest.mark.parametrize("command", [
    "say hi\nop {player}", "say hi\rop {player}", "say\x00", "say hi\u2028op {player}",
    "x" * (MAX_COMMAND_LENGTH + 1),
])
def test_commands_with_line_breaks_control_chars_or_too_long_are_refused(store, actor, product,
                                                                         command):
    before = catalog_state(store)
    with pytest.raises(ServiceError) as exc:
        delivery_actions_set(store=store, actor=actor, product=product, trigger="purchase",
                             actions=[ActionInput(commands=[command])])
    assert exc.value.code == "invalid_command"
    assert catalog_state(store) == before


def test_too_many_commands_in_one_action_are_refused(store, actor, product):
    before = catalog_state(store)
    with pytest.raises(ServiceError) as exc:
        delivery_actions_set(store=store, actor=actor, product=product, trigger="purchase",
                             actions=[ActionInput(commands=["say hi"] * (MAX_COMMANDS + 1))])
    assert exc.value.code == "invalid_command"
    assert catalog_state(store) == before


def test_choosing_servers_needs_at_least_one_of_this_store(store, actor, product):
    from shopkeep.delivery.services import server_create
    from tests.factories import make_store

    before = catalog_state(store)
    with pytest.raises(ServiceError) as exc:
        delivery_actions_set(store=store, actor=actor, product=product, trigger="purchase",
                             actions=[ActionInput(commands=["say hi"], all_servers=False)])
    assert (exc.value.code, exc.value.field) == ("invalid_action", "server_ids")
    outsider = make_store()
    foreign, _, _ = server_create(store=outsider, actor=Actor.system(), name="Theirs")
    with pytest.raises(ServiceError) as exc:
        delivery_actions_set(store=store, actor=actor, product=product, trigger="purchase",
                             actions=[ActionInput(commands=["say hi"], all_servers=False,
                                                  server_ids=[foreign.pk])])
    assert (exc.value.code, exc.value.field) == ("invalid_action", "server_ids")
    assert catalog_state(store) == before


def test_chosen_servers_are_kept_with_the_action(store, actor, product):
    from shopkeep.delivery.services import server_create

    server, _, _ = server_create(store=store, actor=Actor.system(), name="Creative")
    (action,) = delivery_actions_set(
        store=store, actor=actor, product=product, trigger="purchase",
        actions=[ActionInput(commands=["say hi"], all_servers=False, server_ids=[server.pk])])
    assert action.all_servers is False
    assert list(action.servers.all()) == [server]


def test_an_unknown_trigger_is_refused(store, actor, product):
    before = catalog_state(store)
    with pytest.raises(ServiceError) as exc:
        delivery_actions_set(store=store, actor=actor, product=product, trigger="gift",
                             actions=[ActionInput(commands=["say hi"])])
    assert exc.value.code == "invalid_trigger"
    assert catalog_state(store) == before


def test_support_cannot_set_actions(store, product):
    support = add_member(store, Role.SUPPORT).user
    before = catalog_state(store)
    with pytest.raises(PermissionDenied):
        delivery_actions_set(store=store, actor=Actor.for_user(support), product=product,
                             trigger="purchase", actions=[ActionInput(commands=["op {player}"])])
    assert catalog_state(store) == before


def test_actions_of_another_stores_product_cannot_be_set_through_this_store(store, actor):
    other = make_store()
    foreign = product_create(store=other, actor=Actor.for_user(owner_of(other)),
                             data=ProductInput(name="VIP", price="5"))
    before_here, before_there = catalog_state(store), catalog_state(other)
    with pytest.raises(foreign.DoesNotExist):
        delivery_actions_set(store=store, actor=actor, product=foreign, trigger="purchase",
                             actions=[ActionInput(commands=["op {player}"])])
    assert (catalog_state(store), catalog_state(other)) == (before_here, before_there)


def test_a_deleted_products_actions_cannot_be_set(store, actor, product):
    product_delete(store=store, actor=actor, product=product)
    before = catalog_state(store)
    with pytest.raises(product.DoesNotExist):
        delivery_actions_set(store=store, actor=actor, product=product, trigger="purchase",
                             actions=[ActionInput(commands=["op {player}"])])
    assert catalog_state(store) == before
