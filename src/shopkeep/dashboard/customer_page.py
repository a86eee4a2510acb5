"""Everything the customer page shows, read in a bounded number of queries: orders, lifetime
value, subscriptions, deliveries (their orders' commands and manual ones), tickets,
identities, notes and bans. The web layer may read across domains; it writes nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, F, Q, Sum

from shopkeep.customers.bans import customer_identifiers, normalise
from shopkeep.customers.models import Customer, CustomerBan, CustomerNote
from shopkeep.delivery.models import DeliveryCommand
from shopkeep.orders.models import Order
from shopkeep.stores.models import Store
from shopkeep.subscriptions.models import Subscription
from shopkeep.support.models import Kind as TicketKind
from shopkeep.support.models import Ticket

RECENT = 20


@dataclass
class CustomerPage:
    customer: Customer
    orders: list[Order]
    order_count: int
    paid_count: int
    # currency -> paid totals less refunds.
    lifetime: dict[str, Decimal]
    refunded: dict[str, Decimal]
    subscriptions: list[Subscription]
    deliveries: list[DeliveryCommand]
    tickets: list[Ticket]
    notes: list[CustomerNote]
    bans: list[CustomerBan]
    identifiers: list[tuple[str, str, bool]] = field(default_factory=list)  # kind, value, banned

    @property
    def active_bans(self) -> list[CustomerBan]:
        return [b for b in self.bans if b.active]


def _banned_values(store: Store, pairs: list[tuple[str, str]]) -> set[tuple[str, str]]:
    query = Q(pk__in=[])
    normal = []
    for kind, value in pairs:
        normal.append((kind, normalise(kind, value)))
        query |= Q(kind=kind, value=normal[-1][1])
    rows = CustomerBan.objects.filter(store=store, lifted_at__isnull=True).filter(query)
    return {(b.kind, b.value) for b in rows}


def customer_page(*, store: Store, customer: Customer) -> CustomerPage:
    orders = Order.objects.filter(store=store, customer=customer)
    # The mode the store is in, as on the overview and Analytics: test orders while in test
    # mode, real money once live (the page says which).
    real = Q(is_test_order=store.test_mode)
    paid = orders.filter(real, paid_at__isnull=False)
    money = (paid.values("currency").annotate(gross=Sum("total"), back=Sum("refunded_amount"))
             .order_by("currency"))
    lifetime = {r["currency"]: r["gross"] - r["back"] for r in money}
    refunded = {r["currency"]: r["back"] for r in money if r["back"]}
    counts = orders.aggregate(n=Count("id"), paid=Count("id", filter=real & Q(
        paid_at__isnull=False)))
    deliveries = list(
        DeliveryCommand.objects.filter(store=store)
        .filter(Q(order__customer=customer) | Q(customer=customer))
        .select_related("server", "order", "order_item", "product")
        .order_by("-id")[:RECENT])
    tickets = list(Ticket.objects.filter(store=store, kind=TicketKind.CUSTOMER)
                   .filter(Q(customer=customer) | Q(customer_email__iexact=customer.email))
                   .order_by("-created_at")[:RECENT])
    pairs = customer_identifiers(customer)
    banned = _banned_values(store, pairs)
    identifiers = [(kind, value, (kind, normalise(kind, value)) in banned)
                   for kind, value in pairs]
    # The customer's own bans (lifted ones too, as history) and any active ban that matches
    # one of their identifiers although it was made by hand for someone else.
    bans = list(CustomerBan.objects.filter(store=store).filter(
        Q(customer=customer) | (Q(lifted_at__isnull=True) & _q_for(banned)))
        .order_by(F("lifted_at").asc(nulls_first=True), "-created_at"))
    return CustomerPage(
        customer=customer,
        orders=list(orders.prefetch_related("items").order_by("-created_at")[:RECENT]),
        order_count=counts["n"], paid_count=counts["paid"], lifetime=lifetime,
        refunded=refunded,
        subscriptions=list(Subscription.objects.filter(store=store, customer=customer)
                           .select_related("product")[:RECENT]),
        deliveries=deliveries, tickets=tickets,
        notes=list(CustomerNote.objects.filter(store=store, customer=customer)[:50]),
        bans=bans, identifiers=identifiers)


def _q_for(banned: set[tuple[str, str]]) -> Q:
    query = Q(pk__in=[])
    for kind, value in banned:
        query |= Q(kind=kind, value=value)
    return query
