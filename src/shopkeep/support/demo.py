"""Demo tickets for ``make run``: one platform ticket and one customer ticket, once."""

from __future__ import annotations

from shopkeep.accounts.models import User
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import Store
from shopkeep.support.models import Ticket
from shopkeep.support.services import customer_ticket_create, platform_ticket_create


def seed_demo_tickets(*, store: Store, owner: User) -> None:
    if Ticket.objects.filter(store=store).exists():
        return
    platform_ticket_create(
        store=store, actor=Actor.for_user(owner), subject="Stripe webhook returning 404 error",
        category="technical", priority="high",
        description="Our Stripe webhooks stopped working yesterday around 2 PM EST.\n\n"
                    "Steps to reproduce:\n\n1. Complete a test purchase\n"
                    "2. Check the Stripe webhook delivery logs\n3. See 404 response",
        environment={"browser": "Chrome 120", "os": "Windows 10/11"})
    customer_ticket_create(
        store=store, actor=Actor.system("demo customer"), email="player@example.com",
        name="John Doe", subject="Order not delivered", category="orders",
        message="I purchased VIP rank but haven't received it yet.")
