"""Two Discord workers racing on PostgreSQL: every role change is sent once, and a /claim
racing a refund leaves the role either cancelled or assigned-then-removed, never assigned
and kept."""

from __future__ import annotations

import pytest

from shopkeep.customers.services import CustomerInput
from shopkeep.delivery.models import DeliveryCommand
from shopkeep.discord.deliver import deliver_due
from shopkeep.orders.services import Line
from shopkeep.payments.flows import checkout_start, order_create
from shopkeep.payments.gateways.sandbox import CARD_OK, SandboxGateway
from shopkeep.payments.models import SandboxSession
from tests.delivery.test_postgres import _race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
Cmd = DeliveryCommand


def _paid(world, discord_id: str, email: str):
    order = order_create(store=world.store, lines=[Line(world.product.pk, 1)],
                         customer=CustomerInput(email=email, player_name="Steve",
                                                discord_id=discord_id))
    checkout_start(order=order, success_url="https://x.test/ok", cancel_url="https://x.test/no")
    SandboxGateway().pay(session_id=SandboxSession.objects.get(reference=order.order_number).pk,
                         card_number=CARD_OK)
    return order


def test_two_workers_send_each_role_once(world):
    users = [f"1200000000000001{n:03d}" for n in range(12)]
    for n, user in enumerate(users):
        world.fake.join(world.guild["id"], user)
        _paid(world, user, f"p{n}@example.com")
    assert Cmd.objects.filter(kind="discord", status="pending").count() == 12
    results, errors = _race(4, lambda i: deliver_due(sleep=lambda s: None))
    assert errors == []
    assert sum(results) == 12  # each command was leased by exactly one worker
    puts = [r for r in world.fake.requests if r["method"] == "PUT"]
    assert len(puts) == 12 and len({r["path"] for r in puts}) == 12
    assert set(Cmd.objects.filter(kind="discord").values_list("status", flat=True)) == {
        "completed"}
    assert all(Cmd.objects.get(discord_user_id=u).attempt_count == 1 for u in users)


def test_a_claim_racing_a_refund_never_leaves_a_role_on_a_refunded_order(world):
    from shopkeep.discord.services import claim
    from shopkeep.payments.flows import refund_execute, refund_request
    from shopkeep.stores.audit import Actor
    from tests.factories import owner_of

    buyer = "1200000000000002001"
    world.fake.join(world.guild["id"], buyer)
    order = _paid(world, "1200000000000002999", "late@example.com")  # an alt, not in the guild
    deliver_due(sleep=lambda s: None)  # 10007: waits for /claim
    refund = refund_request(store=world.store, actor=Actor.for_user(owner_of(world.store)),
                            order=order, amount=None, reason="race")

    def work(i: int):
        if i == 0:
            return claim(store=world.store, discord_user_id=buyer,
                         order_number=order.order_number, email="late@example.com").text()
        return refund_execute(refund_id=refund.pk)

    _, errors = _race(2, work)
    assert errors == []
    deliver_due(sleep=lambda s: None)
    deliver_due(sleep=lambda s: None)
    assert world.fake.roles_of(world.guild["id"], buyer) == []
