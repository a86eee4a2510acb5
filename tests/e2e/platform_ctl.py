"""Drive a running platform's database from another process, as the shop's other actors would.

Used by the agent end-to-end tests: they run the web server, the agent and the simulator as
separate processes and use this script (run with the platform's environment, so it opens the
same SQLite file) to set up a store, buy with the sandbox gateway, refund, and read results.
Prints one JSON document.

    python -m tests.e2e.platform_ctl setup
    python -m tests.e2e.platform_ctl buy --product ID --player Steve [--count N]
    python -m tests.e2e.platform_ctl refund --order ORD-...
    python -m tests.e2e.platform_ctl poison --command ID --player 'Steve;op Steve'
    python -m tests.e2e.platform_ctl rotate --what store|server --server ID
    python -m tests.e2e.platform_ctl status
    python -m tests.e2e.platform_ctl webhook --url http://127.0.0.1:PORT/hook
    python -m tests.e2e.platform_ctl deliveries
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import sys


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopkeep.settings")
    import django

    django.setup()


def cmd_setup(args: argparse.Namespace) -> dict:
    from shopkeep.accounts.services import user_create
    from shopkeep.catalog.services import (
        ActionInput,
        ProductInput,
        delivery_actions_set,
        product_create,
    )
    from shopkeep.delivery.services import server_create
    from shopkeep.stores.audit import Actor
    from shopkeep.stores.services import store_create

    owner = user_create(email=f"owner-{secrets.token_hex(4)}@e2e.test",
                        password=secrets.token_urlsafe(16), email_verified=True)
    store = store_create(owner=owner, name="E2E Craft", slug=f"e2e-{secrets.token_hex(3)}",
                         currency="USD")
    actor = Actor.for_user(owner)
    # Every command names the order, so the simulator's log tells executions apart.
    kit = product_create(store=store, actor=actor, data=ProductInput(name="Kit", price="4.99"))
    delivery_actions_set(store=store, actor=actor, product=kit, trigger="purchase", actions=[
        ActionInput(commands=["say kit {order_number} for {player}"])])
    vip = product_create(store=store, actor=actor, data=ProductInput(name="VIP", price="9.99"))
    delivery_actions_set(store=store, actor=actor, product=vip, trigger="purchase", actions=[
        ActionInput(commands=["give {player} diamond {quantity}"], require_online=True)])
    delivery_actions_set(store=store, actor=actor, product=vip, trigger="refund", actions=[
        ActionInput(commands=["say refund {order_number} for {player}"])])
    rank = product_create(store=store, actor=actor, data=ProductInput(name="Rank", price="2.99"))
    delivery_actions_set(store=store, actor=actor, product=rank, trigger="purchase", actions=[
        ActionInput(commands=["lp user {player} parent add rank-{order_number}"],
                    safe_to_repeat=True)])
    server, server_secret, store_secret = server_create(store=store, actor=actor,
                                                        name="Survival", game="minecraft")
    return {"store_id": store.pk, "server_id": server.pk, "kit": kit.pk, "vip": vip.pk,
            "rank": rank.pk,
            "store_secret": store_secret, "server_secret": server_secret}


def buy_one(product_id: int, player: str) -> str:
    """One order paid on the sandbox's hosted page; returns once the payment is committed
    and the delivery commands are queued. Returns the order number."""
    from shopkeep.catalog.models import Product
    from shopkeep.customers.services import CustomerInput
    from shopkeep.orders.models import Order
    from shopkeep.orders.services import Line
    from shopkeep.payments.flows import checkout_start, order_create
    from shopkeep.payments.gateways.sandbox import CARD_OK, SandboxGateway
    from shopkeep.payments.models import SandboxSession

    product = Product.objects.select_related("store").get(pk=product_id)
    order = order_create(store=product.store, lines=[Line(product.pk, 1)],
                         customer=CustomerInput(email=_email(player), player_name=player,
                                                name="Player"))
    checkout_start(order=order, success_url="/done", cancel_url="/basket")
    session = SandboxSession.objects.get(reference=order.order_number)
    ok, message = SandboxGateway().pay(session_id=session.pk, card_number=CARD_OK)
    if not ok:
        raise SystemExit(f"payment failed: {message}")
    return Order.objects.get(pk=order.pk).order_number


def cmd_buy(args: argparse.Namespace) -> dict:
    return {"orders": [buy_one(args.product, args.player) for _ in range(args.count)]}


def _email(player: str) -> str:
    return f"player-{hashlib.sha256(player.encode()).hexdigest()[:10]}@e2e.test"


def cmd_refund(args: argparse.Namespace) -> dict:
    from shopkeep.orders.models import Order
    from shopkeep.payments.flows import refund_execute, refund_request
    from shopkeep.stores.audit import Actor
    from shopkeep.stores.models import Membership, Role

    order = Order.objects.select_related("store").get(order_number=args.order)
    owner = Membership.objects.get(store=order.store, role=Role.OWNER).user
    refund = refund_request(store=order.store, actor=Actor.for_user(owner), order=order,
                            amount=None, reason="e2e")
    # The worker would run this task; the test runs it here so no worker is needed.
    return {"refund": refund.pk, "result": refund_execute(refund_id=refund.pk)}


def cmd_poison(args: argparse.Namespace) -> dict:
    """Write a hostile value straight into a queued command, as data that bypassed today's
    checkout validation (an old row, an import) would look: the agent is the last line."""
    from django.db import transaction

    from shopkeep.delivery.models import DeliveryCommand
    from shopkeep.delivery.queue import bump_servers

    with transaction.atomic():
        command = DeliveryCommand.objects.select_for_update().get(pk=args.command)
        command.placeholders = {**command.placeholders, "player": args.player}
        command.player_name = args.player[:32]
        command.save(update_fields=["placeholders", "player_name"])
        bump_servers([command.server_id])
    return {"command": command.pk}


def cmd_rotate(args: argparse.Namespace) -> dict:
    """Rotate the store secret (--what store) or a server's secret (--what server)."""
    from shopkeep.delivery.models import GameServer
    from shopkeep.delivery.services import server_rotate_secret, store_secret_rotate
    from shopkeep.stores.audit import Actor

    server = GameServer.objects.select_related("store").get(pk=args.server)
    store = server.store
    owner = store.memberships.filter(role="owner").select_related("user").first().user
    actor = Actor.for_user(owner)
    if args.what == "store":
        return {"secret": store_secret_rotate(store=store, actor=actor)}
    return {"secret": server_rotate_secret(store=store, actor=actor, server=server)}


def cmd_status(args: argparse.Namespace) -> dict:
    from shopkeep.delivery.models import DeliveryCommand
    from shopkeep.events.models import Event
    from shopkeep.orders.models import Order

    commands = [
        {"id": c.pk, "order": c.order.order_number, "type": c.type, "status": c.status,
         "attempt_count": c.attempt_count, "error_code": c.last_error_code,
         "error": c.last_error, "text": c.rendered(), "executed_by": c.executed_by,
         "output": c.output}
        for c in DeliveryCommand.objects.select_related("order").order_by("id")]
    orders = {o.order_number: {"status": o.status,
                               "items": [i.delivery_status for i in o.items.all()]}
              for o in Order.objects.prefetch_related("items")}
    events = [{"type": e.event_type, "order": (e.data or {}).get("order_number")
               or ((e.data or {}).get("order") or {}).get("order_number")}
              for e in Event.objects.filter(event_type__startswith="delivery.")]
    return {"commands": commands, "orders": orders, "events": events}


def cmd_webhook(args: argparse.Namespace) -> dict:
    """An endpoint for every event of the (only) store, created as its owner would."""
    from shopkeep.stores.audit import Actor
    from shopkeep.stores.models import Membership
    from shopkeep.webhooks.services import endpoint_create

    member = Membership.objects.select_related("store", "user").order_by("id").first()
    endpoint = endpoint_create(store=member.store, actor=Actor.for_user(member.user),
                               url=args.url, events=[], all_events=True)
    return {"endpoint": endpoint.pk}


def cmd_deliveries(args: argparse.Namespace) -> dict:
    from shopkeep.events.models import Event
    from shopkeep.webhooks.models import WebhookDelivery

    return {"events": Event.objects.count(),
            "deliveries": {d.public_id: d.status for d in WebhookDelivery.objects.all()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="platform_ctl")
    sub = parser.add_subparsers(dest="op", required=True)
    sub.add_parser("setup").set_defaults(func=cmd_setup)
    buy = sub.add_parser("buy")
    buy.add_argument("--product", type=int, required=True)
    buy.add_argument("--player", default="Steve")
    buy.add_argument("--count", type=int, default=1)
    buy.set_defaults(func=cmd_buy)
    refund = sub.add_parser("refund")
    refund.add_argument("--order", required=True)
    refund.set_defaults(func=cmd_refund)
    poison = sub.add_parser("poison")
    poison.add_argument("--command", type=int, required=True)
    poison.add_argument("--player", required=True)
    poison.set_defaults(func=cmd_poison)
    rotate = sub.add_parser("rotate")
    rotate.add_argument("--what", choices=["store", "server"], required=True)
    rotate.add_argument("--server", type=int, required=True)
    rotate.set_defaults(func=cmd_rotate)
    sub.add_parser("status").set_defaults(func=cmd_status)
    webhook = sub.add_parser("webhook")
    webhook.add_argument("--url", required=True)
    webhook.set_defaults(func=cmd_webhook)
    sub.add_parser("deliveries").set_defaults(func=cmd_deliveries)
    args = parser.parse_args(argv)
    _django()
    from shopkeep.core.errors import ServiceError

    try:
        print(json.dumps(args.func(args)))
    except ServiceError as exc:  # refused as the storefront would refuse it
        print(json.dumps({"error": exc.code, "message": str(exc)}))
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
