"""Discord roles through the delivery queue, against the local fake Discord API: added on
purchase, removed on refund, chargeback and subscription end; Discord's errors in the words
of seed 000's troubleshooting guide; rate limits honoured."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from shopkeep.catalog.models import DeliveryAction
from shopkeep.customers.services import CustomerInput
from shopkeep.delivery.models import DeliveryCommand, DeliveryLog
from shopkeep.delivery.services import commands_retry
from shopkeep.discord.check import run_check
from shopkeep.events.models import Event
from shopkeep.orders.models import Order
from shopkeep.orders.services import Line
from shopkeep.payments.flows import checkout_start, order_create, refund_execute, refund_request
from shopkeep.stores.audit import Actor
from tests.commerce import make_product, pay
from tests.discord.conftest import BUYER, set_roles
from tests.factories import owner_of

Cmd = DeliveryCommand


def buy(world, capture, *, discord_id: str = BUYER, product=None,
        email: str = "player@example.com") -> Order:
    product = product or world.product
    roles = [] if discord_id else DeliveryAction.objects.get(
        product=product, kind="discord_role", trigger="purchase").role_ids
    if roles:
        # Checkout refuses a role product without a Discord sign-in: this order was placed
        # before the owner gave the product its role and paid after, one of the cases /claim
        # with an order number and e-mail is for.
        set_roles(product)
    order = order_create(store=world.store, lines=[Line(product.pk, 1)],
                         customer=CustomerInput(email=email, player_name="Steve",
                                                discord_id=discord_id))
    if roles:
        set_roles(product, *roles)
    checkout_start(order=order, success_url="/done", cancel_url="/basket")
    order.refresh_from_db()
    ok, message = pay(order, capture=capture)
    assert ok, message
    return order


def discord_commands(order, **filters) -> list[Cmd]:
    return list(Cmd.objects.filter(order=order, kind="discord", **filters).order_by("id"))


def events(store, event_type: str) -> list[dict]:
    return [e.data for e in Event.objects.filter(store=store, event_type=event_type)]


def test_a_purchase_assigns_the_role_and_completes_delivery_as_discord(
        world, django_capture_on_commit_callbacks):
    world.fake.join(world.guild["id"], BUYER)
    order = buy(world, django_capture_on_commit_callbacks)
    (command,) = discord_commands(order)
    assert command.server_id is None and command.status == "pending"
    assert command.discord_user_id == BUYER and command.discord_role_id == world.vip
    assert world.fake.roles_of(world.guild["id"], BUYER) == []  # nothing in the request
    assert world.deliver() == 1
    assert world.fake.roles_of(world.guild["id"], BUYER) == [world.vip]
    put = next(r for r in world.fake.requests if r["method"] == "PUT")
    assert put["path"] == f"/guilds/{world.guild['id']}/members/{BUYER}/roles/{world.vip}"
    assert put["headers"]["Authorization"] == f"Bot {world.fake.token}"
    assert order.order_number in put["headers"]["X-Audit-Log-Reason"]
    command.refresh_from_db()
    assert command.status == "completed" and command.attempt_count == 1
    order.refresh_from_db()
    assert order.items.get().delivery_status == "delivered"
    (completed,) = events(world.store, "delivery.completed")
    assert completed["delivery_type"] == "discord" and completed["server"] is None
    assert "VIP" in DeliveryLog.objects.get(command=command, kind="confirmed").message


def test_delivering_again_sends_nothing_more(world, django_capture_on_commit_callbacks):
    world.fake.join(world.guild["id"], BUYER)
    buy(world, django_capture_on_commit_callbacks)
    world.deliver()
    sent = len(world.fake.requests)
    assert world.deliver() == 0
    assert len(world.fake.requests) == sent


def _refund(order, capture) -> None:
    refund = refund_request(store=order.store, actor=Actor.for_user(owner_of(order.store)),
                            order=order, amount=None, reason="Customer request")
    with capture(execute=True):
        refund_execute(refund_id=refund.pk)


def test_a_refund_removes_the_role(world, django_capture_on_commit_callbacks):
    world.fake.join(world.guild["id"], BUYER)
    order = buy(world, django_capture_on_commit_callbacks)
    world.deliver()
    _refund(order, django_capture_on_commit_callbacks)
    (removal,) = discord_commands(order, type="refund")
    assert removal.discord_user_id == BUYER and removal.status == "pending"
    world.deliver()
    assert world.fake.roles_of(world.guild["id"], BUYER) == []
    delete = next(r for r in world.fake.requests if r["method"] == "DELETE")
    assert delete["path"].endswith(f"/members/{BUYER}/roles/{world.vip}")
    removal.refresh_from_db()
    assert removal.status == "completed"


def test_a_refund_before_delivery_cancels_the_role_and_sends_nothing(
        world, django_capture_on_commit_callbacks):
    world.fake.join(world.guild["id"], BUYER)
    order = buy(world, django_capture_on_commit_callbacks)
    _refund(order, django_capture_on_commit_callbacks)
    (purchase,) = discord_commands(order, type="purchase")
    assert purchase.status == "cancelled"
    assert discord_commands(order, type="refund") == []  # never given: nothing to take back
    world.deliver()
    assert not [r for r in world.fake.requests if r["method"] in ("PUT", "DELETE")]


def test_a_chargeback_removes_the_role(world, django_capture_on_commit_callbacks):
    from shopkeep.payments.flows import dispute_open

    world.fake.join(world.guild["id"], BUYER)
    order = buy(world, django_capture_on_commit_callbacks)
    world.deliver()
    dispute_open(store=order.store, gateway="sandbox", order_number=order.order_number,
                 dispute_id="dp_1", charge_id="ch_1", amount_minor=999, currency="USD",
                 reason="fraudulent", reason_description="", evidence_due_by=None,
                 opened_at=timezone.now())
    (removal,) = discord_commands(order, type="chargeback")
    world.deliver()
    removal.refresh_from_db()
    assert removal.status == "completed"
    assert world.fake.roles_of(world.guild["id"], BUYER) == []


def test_the_end_of_a_subscription_removes_the_role(world, django_capture_on_commit_callbacks):
    from shopkeep.payments.gateways.base import Notice
    from shopkeep.payments.services import notice_receive
    from shopkeep.subscriptions.models import Subscription

    monthly = make_product(world.store, name="Monthly VIP", price="4.99", type="subscription",
                           billing_interval="month", purchase_command=None)
    set_roles(monthly, world.vip)
    world.fake.join(world.guild["id"], BUYER)
    order = buy(world, django_capture_on_commit_callbacks, product=monthly)
    world.deliver()
    assert world.fake.roles_of(world.guild["id"], BUYER) == [world.vip]
    sub = Subscription.objects.get(order=order)
    notice_receive(store=sub.store, gateway=sub.payment_gateway, notice=Notice(
        event_id="evt_sub_cancelled", kind="subscription.cancelled", occurred_at=timezone.now(),
        reference=order.order_number, subscription_id=sub.gateway_subscription_id))
    (removal,) = discord_commands(order, type="subscription_cancel")
    world.deliver()
    assert world.fake.roles_of(world.guild["id"], BUYER) == []
    removal.refresh_from_db()
    assert removal.status == "completed"


def test_no_removal_when_the_owner_keeps_the_role_after_a_refund(
        world, django_capture_on_commit_callbacks):
    set_roles(world.product, world.vip, remove_on=["chargeback"])
    world.fake.join(world.guild["id"], BUYER)
    order = buy(world, django_capture_on_commit_callbacks)
    world.deliver()
    _refund(order, django_capture_on_commit_callbacks)
    assert discord_commands(order, type="refund") == []
    assert world.fake.roles_of(world.guild["id"], BUYER) == [world.vip]


def test_a_buyer_not_in_the_server_waits_for_claim(world, django_capture_on_commit_callbacks):
    order = buy(world, django_capture_on_commit_callbacks)
    world.deliver()
    (command,) = discord_commands(order)
    assert command.status == "waiting_claim"
    assert command.last_error_code == "DISCORD_UNKNOWN_MEMBER"
    assert command.last_error == ("The buyer has not joined your Discord server yet; the role "
                                  "is assigned when they join and use /claim.")
    order.refresh_from_db()
    assert order.items.get().delivery_status == "pending"
    assert events(world.store, "delivery.failed") == []  # waiting is not failing
    sent = len(world.fake.requests)
    world.deliver()
    assert len(world.fake.requests) == sent  # nothing retried until /claim


def test_a_buyer_without_discord_waits_for_claim_without_asking_discord(
        world, django_capture_on_commit_callbacks):
    order = buy(world, django_capture_on_commit_callbacks, discord_id="")
    (command,) = discord_commands(order)
    assert command.status == "waiting_claim" and command.last_error_code == "DISCORD_NO_ACCOUNT"
    assert "/claim" in command.last_error
    assert DeliveryLog.objects.filter(command=command, kind="waiting_claim").exists()
    world.deliver()
    assert not [r for r in world.fake.requests if r["method"] == "PUT"]


def test_missing_permissions_fail_with_the_troubleshooting_sentence_then_retry_works(
        world, django_capture_on_commit_callbacks):
    high = world.fake.add_role(world.guild["id"], "Legend", position=20)  # above the bot
    run_check(store_id=world.store.pk)  # the role picker learns the new role
    set_roles(world.product, high)
    world.fake.join(world.guild["id"], BUYER)
    order = buy(world, django_capture_on_commit_callbacks)
    world.deliver()
    (command,) = discord_commands(order)
    assert command.status == "failed"
    assert command.last_error_code == "DISCORD_MISSING_PERMISSIONS"
    assert "needs Manage Roles and its highest role must be above Legend" in command.last_error
    (failed,) = events(world.store, "delivery.failed")
    assert failed["delivery_type"] == "discord" and failed["server"] is None
    assert failed["error_code"] == "DISCORD_MISSING_PERMISSIONS" and failed["attempt_count"] == 1
    # The owner drags the bot's role up, then presses Retry delivery.
    world.fake.guilds[world.guild["id"]]["roles"][high]["position"] = 9
    commands_retry(store=world.store, actor=Actor.for_user(owner_of(world.store)), order=order)
    world.deliver()
    command.refresh_from_db()
    assert command.status == "completed" and command.attempt_count == 2
    assert world.fake.roles_of(world.guild["id"], BUYER) == [high]


def test_an_unknown_role_names_the_role_id(world, django_capture_on_commit_callbacks):
    world.fake.join(world.guild["id"], BUYER)
    order = buy(world, django_capture_on_commit_callbacks)
    del world.fake.guilds[world.guild["id"]]["roles"][world.vip]  # deleted in Discord
    world.deliver()
    (command,) = discord_commands(order)
    assert command.status == "failed" and command.last_error_code == "DISCORD_UNKNOWN_ROLE"
    assert command.last_error.startswith(f"Role id {world.vip} does not exist in this server")


def test_discord_outage_backs_off_then_fails_after_the_store_attempts(
        world, django_capture_on_commit_callbacks):
    from shopkeep.delivery.services import delivery_settings_update

    delivery_settings_update(store=world.store, actor=Actor.for_user(owner_of(world.store)),
                             max_attempts=2, poll_seconds=30)
    world.fake.join(world.guild["id"], BUYER)
    order = buy(world, django_capture_on_commit_callbacks)
    role_path = r"/guilds/\d+/members/\d+/roles/\d+"
    world.fake.fail_next("PUT", role_path, 502, {"message": "Bad Gateway", "code": 0})
    world.deliver()
    (command,) = discord_commands(order)
    assert command.status == "retrying" and command.last_error_code == "DISCORD_UNAVAILABLE"
    assert command.execute_after > timezone.now()
    world.deliver()  # not due yet: nothing sent
    assert len([r for r in world.fake.requests if r["method"] == "PUT"]) == 1
    Cmd.objects.filter(pk=command.pk).update(execute_after=timezone.now())
    world.fake.fail_next("PUT", role_path, 503, {"message": "Unavailable", "code": 0})
    world.deliver()
    command.refresh_from_db()
    assert command.status == "failed" and command.attempt_count == 2
    assert len(events(world.store, "delivery.failed")) == 1


def test_a_long_429_reschedules_without_spending_an_attempt(
        world, django_capture_on_commit_callbacks):
    world.fake.join(world.guild["id"], BUYER)
    order = buy(world, django_capture_on_commit_callbacks)
    world.fake.fail_next("PUT", r"/guilds/\d+/members/\d+/roles/\d+", 429,
                         {"message": "You are being rate limited.", "retry_after": 42.5,
                          "global": False},
                         {"Retry-After": "43", "X-RateLimit-Scope": "user"})
    world.deliver()
    (command,) = discord_commands(order)
    assert command.status == "retrying" and command.attempt_count == 0
    wait = (command.execute_after - timezone.now()).total_seconds()
    assert 30 < wait <= 43
    assert DeliveryLog.objects.filter(command=command, kind="rate_limited").exists()
    assert world.sleeps == []  # a long wait is not slept in the worker


def test_a_short_429_is_waited_out_and_the_role_assigned(
        world, django_capture_on_commit_callbacks):
    world.fake.join(world.guild["id"], BUYER)
    order = buy(world, django_capture_on_commit_callbacks)
    world.fake.fail_next("PUT", r"/guilds/\d+/members/\d+/roles/\d+", 429,
                         {"message": "You are being rate limited.", "retry_after": 0.25,
                          "global": True},
                         {"Retry-After": "1", "X-RateLimit-Global": "true",
                          "X-RateLimit-Scope": "global"})
    world.deliver()
    (command,) = discord_commands(order)
    assert command.status == "completed" and command.attempt_count == 1
    assert world.sleeps and 0.2 < world.sleeps[0] <= 0.25
    assert [r["method"] for r in world.fake.requests[-2:]] == ["PUT", "PUT"]


def test_an_exhausted_bucket_is_waited_for_before_the_next_request(
        world, django_capture_on_commit_callbacks):
    world.fake.remaining_per_bucket = 1  # every answer says Remaining: 0
    world.fake.reset_after = 2.0
    for n in range(2):
        user = f"12000000000000000{n + 10}"
        world.fake.join(world.guild["id"], user)
        buy(world, django_capture_on_commit_callbacks, discord_id=user,
            email=f"p{n}@example.com")
    world.deliver()
    assert all(c.status == "completed" for c in Cmd.objects.filter(kind="discord"))
    # The second PUT waited out the first one's Reset-After instead of earning a 429.
    assert len(world.sleeps) == 1 and 1.0 < world.sleeps[0] <= 2.0


def test_a_store_without_discord_settings_fails_with_a_clear_message(
        world, django_capture_on_commit_callbacks):
    from shopkeep.discord.services import discord_disconnect

    discord_disconnect(store=world.store, actor=Actor.for_user(owner_of(world.store)))
    order = buy(world, django_capture_on_commit_callbacks)
    world.deliver()
    (command,) = discord_commands(order)
    assert command.status == "failed" and command.last_error_code == "DISCORD_NOT_CONFIGURED"
    assert "Settings > Discord" in command.last_error
    assert not [r for r in world.fake.requests if r["method"] in ("PUT", "DELETE")]


def test_an_item_with_a_game_command_and_a_role_waits_for_both(
        world, django_capture_on_commit_callbacks):
    from tests.delivery.conftest import add_server

    add_server(world.store)
    mixed = make_product(world.store, name="VIP bundle", price=str(Decimal("5")))
    set_roles(mixed, world.vip)
    world.fake.join(world.guild["id"], BUYER)
    order = buy(world, django_capture_on_commit_callbacks, product=mixed)
    kinds = sorted(Cmd.objects.filter(order=order).values_list("kind", flat=True))
    assert kinds == ["discord", "game"]
    world.deliver()
    order.refresh_from_db()
    assert order.items.get().delivery_status == "pending"  # the game command still waits


def test_a_refund_keeps_a_role_another_purchase_still_gives(
        world, django_capture_on_commit_callbacks):
    world.fake.join(world.guild["id"], BUYER)
    first = buy(world, django_capture_on_commit_callbacks)
    second = buy(world, django_capture_on_commit_callbacks, email="again@example.com")
    world.deliver()
    _refund(second, django_capture_on_commit_callbacks)
    (kept,) = discord_commands(second, type="refund")
    assert kept.status == "completed" and kept.attempt_count == 0
    assert kept.output == f"role kept: order {first.order_number} still gives it"
    world.deliver()
    assert not [r for r in world.fake.requests if r["method"] == "DELETE"]
    assert world.fake.roles_of(world.guild["id"], BUYER) == [world.vip]
    _refund(first, django_capture_on_commit_callbacks)  # the last one: the role goes
    (removal,) = discord_commands(first, type="refund")
    world.deliver()
    assert world.fake.roles_of(world.guild["id"], BUYER) == []
    removal.refresh_from_db()
    assert removal.status == "completed" and removal.attempt_count == 1


def test_a_worker_that_died_holding_a_command_is_replaced_after_its_lease(
        world, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from shopkeep.discord.deliver import LEASE, claim_due, deliver_due

    world.fake.join(world.guild["id"], BUYER)
    order = buy(world, django_capture_on_commit_callbacks)
    now = timezone.now()
    assert len(claim_due(owner="discord:dead", now=now)) == 1  # then the process was killed
    assert deliver_due(now=now + timedelta(seconds=5), sleep=world.sleeps.append) == 0
    assert not [r for r in world.fake.requests if r["method"] == "PUT"]
    assert deliver_due(now=now + LEASE + timedelta(seconds=1),
                       sleep=world.sleeps.append) == 1
    (command,) = discord_commands(order)
    assert command.status == "completed" and command.attempt_count == 1
    assert world.fake.roles_of(world.guild["id"], BUYER) == [world.vip]


def test_one_stores_global_rate_limit_does_not_hold_back_another_stores_bot(world):
    from shopkeep.discord.client import limiter_for

    limiter_for(world.fake.token).limited("PUT /x", "", 60.0, True)
    assert limiter_for(world.fake.token).wait_needed("GET /users/@me", "") > 50
    assert limiter_for("another-stores-bot-token").wait_needed("GET /users/@me", "") == 0
