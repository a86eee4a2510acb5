"""Reads for storefront pages: the look (published, or the draft in the owner's preview),
the navigation's pages, the live server status and the widgets' figures."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from shopkeep.catalog.models import Category, Product
from shopkeep.delivery.models import GameServer
from shopkeep.orders.models import Order
from shopkeep.stores.models import Store
from shopkeep.themes.look import Look, resolve
from shopkeep.themes.models import StorefrontSettings, StorePage
from shopkeep.themes.services import storefront_settings_get

COUNTED = (Order.Status.PROCESSING, Order.Status.COMPLETED, Order.Status.PARTIALLY_REFUNDED)


@dataclass(frozen=True)
class ServerStatus:
    servers: int
    online: int
    players: int
    max_players: int | None

    @property
    def is_online(self) -> bool:
        return self.online > 0


@dataclass(frozen=True)
class Goal:
    title: str
    raised: Decimal
    target: Decimal

    @property
    def percent(self) -> int:
        return min(100, int(self.raised * 100 / self.target)) if self.target else 0


def look_for(row: StorefrontSettings, *, preview: bool) -> Look:
    return resolve(row.draft if preview else row.published)


def nav_pages(store: Store, *, preview: bool) -> list[StorePage]:
    pages = StorePage.objects.filter(store=store, show_in_nav=True)
    if not preview:
        pages = pages.filter(is_published=True)
    return list(pages.only("title", "slug", "is_published"))


def nav_categories(store: Store) -> list[Category]:
    """Categories with at least one product on sale, for the category tabs."""
    on_sale = Product.objects.on_sale().filter(store=store, category=OuterRef("pk"))
    return list(Category.objects.filter(store=store).filter(Exists(on_sale))
                .only("name", "slug"))


def server_status(store: Store, look: Look) -> ServerStatus:
    """From the agents' heartbeats: a server is online while its last heartbeat is fresh."""
    now = timezone.now()
    servers = list(GameServer.objects.alive().filter(store=store)
                   .only("last_heartbeat_at", "online_players"))
    online = [s for s in servers if s.is_online(now)]
    players = sum(len(s.online_players or []) for s in online)
    return ServerStatus(servers=len(servers), online=len(online), players=players,
                        max_players=look.max_players)


def _month_start(store: Store) -> datetime:
    local = timezone.now().astimezone(zoneinfo.ZoneInfo(store.time_zone))
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _shown(store: Store):
    """Paid orders of buyers who chose to be shown: their latest paid order in the store
    says yes (so unticking the box on a later order hides every earlier one)."""
    latest = (Order.objects.filter(store=store, player_name=OuterRef("player_name"),
                                   paid_at__isnull=False)
              .order_by("-paid_at", "-id").values("show_in_widgets")[:1])
    return (Order.objects.filter(store=store, status__in=COUNTED, is_test_order=False)
            .exclude(player_name="").annotate(consent=Subquery(latest))
            .filter(consent=True))


def recent_purchases(store: Store, *, limit: int = 5) -> list[dict]:
    """Player name and product only: never an e-mail, a name or an amount; only buyers who
    opted in at checkout."""
    orders = _shown(store).order_by("-paid_at").prefetch_related("items")[:limit]
    return [{"player": o.player_name, "product": o.items.all()[0].product_name,
             "at": o.paid_at} for o in orders if o.items.all()]


def top_customer(store: Store) -> str:
    """The month's biggest spender among buyers who opted in (someone who did not is
    skipped, not named)."""
    row = (_shown(store).filter(paid_at__gte=_month_start(store)).values("player_name")
           .annotate(spent=Sum("total") - Sum("refunded_amount"), n=Count("id"))
           .order_by("-spent", "player_name").first())
    return row["player_name"] if row else ""


def goal(store: Store, look: Look) -> Goal | None:
    if look.goal_amount is None:
        return None
    figures = Order.objects.filter(
        Q(status__in=COUNTED), store=store, is_test_order=False,
        paid_at__gte=_month_start(store)).aggregate(total=Sum("total"),
                                                    refunded=Sum("refunded_amount"))
    raised = (figures["total"] or Decimal(0)) - (figures["refunded"] or Decimal(0))
    return Goal(title=look.goal_title or "Monthly goal", raised=raised, target=look.goal_amount)


def storefront_row(store: Store) -> StorefrontSettings:
    return storefront_settings_get(store=store)
