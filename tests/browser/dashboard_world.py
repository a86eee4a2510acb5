"""A busy demo store for the page-layout walk: every dashboard and staff route with an id
in its path gets a real row to show, and the values are long on purpose (names, e-mails,
URLs) so a card or cell that cannot hold them shows up as an overflow."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.urls import URLPattern
from django.utils import timezone

from shopkeep.catalog.models import Category, Product
from shopkeep.customers.models import Customer, CustomerBan
from shopkeep.delivery.models import DeliveryCommand, GameServer
from shopkeep.demo import DEMO_SLUG, demo_seed
from shopkeep.orders.models import Order
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import Membership, Role, Store
from shopkeep.subscriptions.models import Subscription
from shopkeep.support.models import Guide, Kind, Ticket
from shopkeep.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.commerce import make_product, paid_order
from tests.support.conftest import ensure_guides


def build_world(capture) -> dict:
    # A transactional test that ran earlier flushed the knowledge base the migrations seeded.
    ensure_guides()
    result = demo_seed()
    store = Store.objects.get(slug=DEMO_SLUG)
    owner = Membership.objects.get(store=store, role=Role.OWNER).user
    actor = Actor.for_user(owner)
    product = Product.objects.filter(store=store).first()
    from shopkeep.webhooks.services import endpoint_create

    # Before the orders, so their events fan out into deliveries to show.
    endpoint = endpoint_create(
        store=store, actor=actor, all_events=True, events=[],
        url="http://127.0.0.1:9/a/very/long/path/for/the/webhook/receiver/endpoint/x")
    long_mail = "a.very.long.customer.address.that.goes.on@example-longdomain-gaming.com"
    paid_order(store, product, capture=capture, email=long_mail)
    paid_order(store, product, capture=capture, email="second@example.com")
    sub_product = make_product(store, name="VIP Monthly Subscription With A Long Name",
                               price="9.99", type="subscription", billing_interval="month")
    paid_order(store, sub_product, capture=capture, email="sub@example.com")
    from shopkeep.delivery.services import server_create
    from shopkeep.webhooks.queue import fanout

    server, _, _ = server_create(store=store, actor=actor,
                                 name="Survival server with a long name (EU-West 1)",
                                 game="minecraft")
    _cockpit(store, actor, server, long_mail)
    fanout(now=timezone.now())  # the dispatcher's first step: events become deliveries
    _promotions(store, actor)
    _discord(store, actor, product)
    _status_incident()
    _staff_tools(store)
    return {"store": store, "owner": owner, "endpoint": endpoint, **result}


def _staff_tools(store: Store) -> None:
    from shopkeep.support.models import CannedReply

    CannedReply.objects.create(
        title="Stripe webhook returns 404 after changing the store address",
        body="Open Settings > Payments and reconnect Stripe: the webhook URL follows the "
             "store address, and the old one now answers 404.")
    Store.objects.filter(pk=store.pk).update(
        live_approval="pending", live_approval_at=timezone.now(),
        live_approval_note="We sell ranks and cosmetics on play.example-long-server-name.net")


def _cockpit(store: Store, actor: Actor, server: GameServer, email: str) -> None:
    """A test command, a manual delivery, a note and a ban, so those pages show rows."""
    from shopkeep.customers import bans, notes
    from shopkeep.delivery import adhoc

    adhoc.command_send_test(store=store, actor=actor, server=server,
                            command="tellraw {player} a long test message for the layout walk",
                            player_name="Notch")
    customer = Customer.objects.get(store=store, email=email)
    adhoc.manual_command_send(store=store, actor=actor, customer=customer, server=server,
                              command="give {player} diamond_sword 1",
                              reason="Lost their sword in the crash of the 3rd; compensation")
    notes.note_add(store=store, actor=actor, customer=customer,
                   body="Asked about refunds twice; prefers Discord over e-mail.")
    bans.ban_create(store=store, actor=actor, kind="ip", value="203.0.113.77",
                    reason="Card testing from this address", customer=None)


def _status_incident() -> None:
    from shopkeep.platform.status_services import incident_create, incident_post_update

    incident = incident_create(
        actor=Actor.system(), kind="incident", impact="degraded",
        components=["checkout", "webhooks", "delivery_api"], status_value="investigating",
        title="Payments from one card network fail intermittently in the European region",
        body="Some card payments are declined with a network timeout; retrying usually "
             "works. https://status.example.com/a/very/long/link/that/must/wrap/somewhere",
        notify=False)
    incident_post_update(actor=Actor.system(), incident_id=incident.pk,
                         status_value="resolved", body="Resolved.", notify=False)


def _promotions(store: Store, actor: Actor) -> None:
    try:
        from shopkeep.promotions.giftcards import gift_card_issue
        from shopkeep.promotions.services import (
            CouponInput,
            SaleInput,
            coupon_create,
            sale_create,
        )
    except ImportError:
        return
    coupon_create(store=store, actor=actor, data=CouponInput(code="SPRING10", kind="percent",
                                                             value="10"))
    now = timezone.now()
    sale_create(store=store, actor=actor, data=SaleInput(
        name="Spring sale", kind="percent", value="15", starts_at=now,
        ends_at=now + timedelta(days=7), all_products=True))
    gift_card_issue(store=store, actor=actor, amount="25.00", note="Birthday present")
    from shopkeep.promotions.tiers import TierGroupInput, tier_group_create
    ranks = [make_product(store, name=f"{name} rank with a rather long name", price=price)
             for name, price in (("VIP", "5.00"), ("MVP", "12.50"), ("Legend", "20.00"))]
    tier_group_create(store=store, actor=actor, data=TierGroupInput(
        name="Ranks on every server (long group name)", product_ids=[p.pk for p in ranks],
        description="VIP < MVP < Legend"))


def _discord(store: Store, actor: Actor, product: Product) -> None:
    """A bot set up against the local fake Discord and checked for real, with a role name
    long enough to show an overflow; the product gives it (after the orders: checkout would
    now ask those buyers for a Discord sign-in)."""
    from django.test import override_settings

    from shopkeep.discord.check import run_check
    from shopkeep.discord.services import (
        RolesInput,
        discord_settings_update,
        product_discord_roles_set,
    )
    from tests.discord.fake_discord import FakeDiscord

    fake = FakeDiscord().start()
    try:
        guild = fake.add_guild(name="The Block Party Community Discord Server (EU)")
        role = fake.add_role(guild["id"], "Supporter of the month with a long role name",
                             position=5)
        fake.add_role(guild["id"], "Administrators above the bot", position=30)
        with override_settings(DISCORD_API_BASE=fake.url):
            discord_settings_update(store=store, actor=actor, guild_id=guild["id"],
                                    public_key="", bot_token=fake.token)
            run_check(store_id=store.pk)
        product_discord_roles_set(store=store, actor=actor, product=product,
                                  data=RolesInput(role_ids=[role]))
    finally:
        fake.stop()


def _first(model, **filters) -> Callable[[Store], object]:
    def pick(store: Store):
        row = model.objects.filter(**filters).filter(store=store).order_by("pk").first()
        return row.pk if row else None
    return pick


def _promo(name: str) -> Callable[[Store], object]:
    def pick(store: Store):
        from shopkeep.promotions import models

        row = getattr(models, name).objects.filter(store=store).order_by("pk").first()
        return row.pk if row else None
    return pick


def _delivery(store: Store):
    row = WebhookDelivery.objects.filter(endpoint__store=store).order_by("pk").first()
    return row.public_id if row and hasattr(row, "public_id") else (row.pk if row else None)


# kwarg -> its value for the demo store. Anything not here makes the walk fail by name.
def kwarg_values(*, dashboard: bool, view_name: str) -> dict[str, Callable[[Store], object]]:
    platform = "platform" in view_name or not dashboard
    return {
        "store_slug": lambda s: s.slug,
        "store_id": lambda s: s.pk,
        "product_id": _first(Product),
        "trigger": lambda s: "purchase",
        "category_id": _first(Category),
        "customer_id": _first(Customer),
        "order_id": _first(Order),
        "subscription_id": _first(Subscription),
        "server_id": _first(GameServer),
        "ticket_id": _first(Ticket, kind=Kind.PLATFORM if platform else Kind.CUSTOMER),
        "guide_slug": lambda s: Guide.objects.filter(is_published=True).first().slug,
        "guide_id": lambda s: Guide.objects.filter(is_published=True).first().pk,
        "endpoint_id": _first(WebhookEndpoint),
        "delivery_id": _delivery,
        "coupon_id": _promo("Coupon"),
        "sale_id": _promo("Sale"),
        "card_id": _promo("GiftCard"),
        "group_id": _promo("TierGroup"),
        "member_id": _first(Membership),
        "token_id": lambda s: None,  # POST-only
        "what": lambda s: "dispute",  # POST-only simulations
        # Order-less first: the test/manual command page shows only those (order actions on
        # commands are POST-only and answer 405 whatever the id).
        "command_id": lambda s: (_first(DeliveryCommand, order__isnull=True)(s)
                                 or _first(DeliveryCommand)(s)),
        "decision": lambda s: "mark-delivered",  # POST-only
        "ban_id": _first(CustomerBan),  # POST-only
        "attachment_id": lambda s: None,  # downloads, not pages
        "kind": lambda s: None,  # e-mail previews: the mail itself, framed by the e-mails page
        "fmt": lambda s: None,
        "page_id": _store_page,
        "incident_id": lambda s: _incident_pk(),
        "reply_id": lambda s: _canned_pk(),
        "plan_id": lambda s: _plan_pk(),  # storefront Markdown pages; the demo has none yet
    }


def _plan_pk():
    from shopkeep.stores.models import BillingPlan

    row = BillingPlan.objects.order_by("pk").first()
    return row.pk if row else None


def _canned_pk():
    from shopkeep.support.models import CannedReply

    row = CannedReply.objects.order_by("pk").first()
    return row.pk if row else None


def _incident_pk():
    from shopkeep.platform.models import Incident

    row = Incident.objects.order_by("pk").first()
    return row.pk if row else None


def route_url(pattern: URLPattern, prefix: str, store: Store) -> str | None:
    """The path for ``pattern`` in ``store``; None when a value it needs does not exist."""
    values = kwarg_values(dashboard=prefix == "/dashboard/", view_name=pattern.name or "")
    path = str(pattern.pattern)
    for name in pattern.pattern.converters:
        if name not in values:
            # Unknown here: an action (POST-only) answers 405 whatever the value; a page
            # fails the walk until its value is added to kwarg_values.
            raise UnknownKwarg(prefix + _with_zeros(pattern))
        value = values[name](store)
        if value is None:
            return None
        path = path.replace(f"<{_conv(pattern, name)}:{name}>", str(value))
    return prefix + path


def _conv(pattern: URLPattern, name: str) -> str:
    import re

    return re.search(r"<(\w+):" + name + ">", str(pattern.pattern)).group(1)


class UnknownKwarg(Exception):
    def __init__(self, probe_path: str) -> None:
        super().__init__(probe_path)
        self.probe_path = probe_path


def _with_zeros(pattern: URLPattern) -> str:
    import re

    path = str(pattern.pattern).replace("<slug:store_slug>", "demo")
    return re.sub(r"<(\w+):(\w+)>", lambda m: "0" if m.group(1) == "int" else "x", path)


def _store_page(store: Store):
    from shopkeep.themes.models import StorePage

    row = StorePage.objects.filter(store=store).order_by("pk").first()
    return row.pk if row else None
