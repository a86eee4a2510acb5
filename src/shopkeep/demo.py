"""The demo store that ``make run`` seeds. Idempotent: running it again refreshes passwords."""

from __future__ import annotations

import secrets

from allauth.account.models import EmailAddress
from django.db import transaction
from django.urls import reverse

from shopkeep.accounts.models import User
from shopkeep.catalog.models import Product
from shopkeep.catalog.services import (
    ActionInput,
    ProductInput,
    category_create,
    delivery_actions_set,
    product_create,
)
from shopkeep.core.absolute import absolute_url
from shopkeep.platform.plans import seed_demo_plans
from shopkeep.promotions.demo import seed_demo_promotions
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import Membership, Role, Store
from shopkeep.stores.services import store_create
from shopkeep.support.demo import seed_demo_tickets
from shopkeep.themes.demo import seed_demo_storefront

DEMO_OWNER = "owner@demo.shopkeep.test"
DEMO_STAFF = "staff@demo.shopkeep.test"
DEMO_SLUG = "demo"
# A second store on the Free plan, beside the first on Growth (issue 19).
DEMO_SECOND_SLUG = "demo-survival"


def _ensure_user(email: str, *, is_staff: bool) -> tuple[User, str]:
    password = secrets.token_urlsafe(12)
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=password, is_staff=is_staff)
    else:
        user.set_password(password)
        user.is_staff = is_staff
        user.is_active = True
        user.save()
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True})
    return user, password


@transaction.atomic
def demo_seed() -> dict[str, str]:
    owner, owner_password = _ensure_user(DEMO_OWNER, is_staff=False)
    _, staff_password = _ensure_user(DEMO_STAFF, is_staff=True)
    store = Store.objects.filter(slug=DEMO_SLUG).first()
    if store is None:
        store = store_create(owner=owner, name="Demo Craft", slug=DEMO_SLUG, currency="USD",
                             time_zone="America/New_York")
    else:
        Membership.objects.get_or_create(store=store, user=owner, defaults={"role": Role.OWNER})
    if not Product.objects.filter(store=store).exists():
        _seed_catalog(store, Actor.for_user(owner))
    seed_demo_tickets(store=store, owner=owner)
    # Promotions first: they add products (MVP Rank, a gift card) the storefront gives art to.
    promotions = seed_demo_promotions(store=store, actor=Actor.for_user(owner))
    seed_demo_storefront(store=store, actor=Actor.for_user(owner))
    second = Store.objects.filter(slug=DEMO_SECOND_SLUG).first() or store_create(
        owner=owner, name="Demo Survival", slug=DEMO_SECOND_SLUG, currency="EUR",
        time_zone="Europe/Berlin")
    seed_demo_plans(stores=[store, second])
    return {
        **promotions,
        "storefront_url": absolute_url(reverse("storefront:home", args=[store.slug])),
        "store_url": absolute_url(reverse("dashboard:overview", args=[store.slug])),
        "owner_email": DEMO_OWNER,
        "owner_password": owner_password,
        "staff_email": DEMO_STAFF,
        "staff_password": staff_password,
        "plans": "Demo Craft on Growth, Demo Survival on Free (staff console > Plans)",
    }


def _seed_catalog(store: Store, actor: Actor) -> None:
    """A few products with commands for every notification type, so a first run shows
    something real."""
    ranks = category_create(store=store, actor=actor, name="Ranks", sort_order=1)
    items = category_create(store=store, actor=actor, name="Items", sort_order=2)
    vip = product_create(store=store, actor=actor, data=ProductInput(
        name="VIP Rank", price="29.99", category_id=ranks.pk, is_featured=True,
        description="**VIP** for life: a gold name tag, /fly in the hub and a monthly crate."))
    kit = product_create(store=store, actor=actor, data=ProductInput(
        name="Diamond Kit", price="4.99", category_id=items.pk, stock_enabled=True,
        stock_quantity=100, description="A full set of diamond tools, delivered in game."))
    monthly = product_create(store=store, actor=actor, data=ProductInput(
        name="VIP Monthly", price="9.99", category_id=ranks.pk, type="subscription",
        billing_interval="month", description="VIP while you are subscribed."))
    for product in (vip, monthly):
        delivery_actions_set(store=store, actor=actor, product=product, trigger="purchase",
                             actions=[ActionInput(commands=["lp user {player} parent add vip"])])
        for trigger in ("refund", "chargeback"):
            delivery_actions_set(store=store, actor=actor, product=product, trigger=trigger,
                                 actions=[ActionInput(
                                     commands=["lp user {player} parent remove vip"])])
    delivery_actions_set(store=store, actor=actor, product=monthly,
                         trigger="subscription_cancel",
                         actions=[ActionInput(commands=["lp user {player} parent remove vip"])])
    delivery_actions_set(store=store, actor=actor, product=kit, trigger="purchase",
                         actions=[ActionInput(commands=["give {player} diamond_pickaxe 1",
                                                        "give {player} diamond_sword 1"],
                                              require_online=True, repeat_per_quantity=True)])
