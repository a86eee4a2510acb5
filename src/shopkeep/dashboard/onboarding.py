"""The getting-started checklist on the overview: each step reads the facts that show it is
done (nothing is ticked by hand), and links to the page where it is done."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from shopkeep.catalog.models import DeliveryAction, Product
from shopkeep.delivery.models import GameServer
from shopkeep.orders.models import OrderItem
from shopkeep.payments.models import PayPalConnection, StripeConnection
from shopkeep.stores.models import Store


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    hint: str
    url: str
    done: bool


def onboarding_steps(*, store: Store) -> list[Step]:
    slug = store.slug
    with_commands = (DeliveryAction.objects.filter(store=store, product__deleted_at__isnull=True)
                     .exclude(commands=[]).exists())
    has_product = Product.objects.alive().filter(store=store).exists()
    connected = GameServer.objects.alive().filter(store=store,
                                                  last_heartbeat_at__isnull=False).exists()
    test_delivered = OrderItem.objects.filter(
        order__store=store, order__is_test_order=True,
        delivery_status=OrderItem.DeliveryStatus.DELIVERED).exists()
    gateway = (StripeConnection.objects.filter(store=store).exists()
               or PayPalConnection.objects.filter(store=store).exists())
    return [
        Step("store", "Create your store", "Done: it has a name and an address.",
             reverse("dashboard:settings", args=[slug]), True),
        Step("product", "Add a product with commands",
             "The game commands that deliver it, like lp user {player} parent add vip.",
             reverse("dashboard:products" if has_product else "dashboard:product_create",
                     args=[slug]), with_commands),
        Step("server", "Connect a game server",
             "Install shopkeep-agent on the server; the step ticks on its first heartbeat.",
             reverse("dashboard:servers", args=[slug]), connected),
        Step("test_purchase", "Make a test purchase and see it delivered",
             "Buy in test mode on your storefront; the step ticks when the commands ran.",
             reverse("storefront:home", args=[slug]), test_delivered),
        Step("gateway", "Connect a payment gateway",
             "Connect Stripe or PayPal (or both) to take real payments.",
             reverse("dashboard:payments", args=[slug]), gateway),
        Step("live", "Go live", "Turn off test mode in Settings once the steps above are done.",
             reverse("dashboard:settings", args=[slug]), not store.test_mode),
    ]
