"""Subscription, delivery and dispute mails, made from seed 002's own example payloads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core import mail
from django.db import transaction

from shopkeep.events.services import emit
from shopkeep.notifications.models import EmailOutbox
from shopkeep.notifications.services import email_send, outbox_scan
from tests.commerce import make_shop
from tests.factories import owner_of

pytestmark = pytest.mark.django_db
EXAMPLES = json.loads((Path(__file__).parents[1] / "data" / "seed_002_examples.json")
                      .read_text())


@pytest.mark.parametrize(("event_type", "to_buyer", "subject", "content"), [
    ("subscription.created", True, "Your VIP Monthly subscription has started",
     "every month"),
    ("subscription.renewed", True, "Receipt: VIP Monthly renewed", "9.99 USD"),
    ("subscription.payment_failed", True,
     "Action needed: your VIP Monthly renewal payment failed", "What to do:"),
    ("subscription.cancelled", True, "Your VIP Monthly subscription is cancelled",
     "you keep it until 2025-02-20"),
    ("delivery.failed", False, "Delivery failed for order ORD-A1B2C3D4E5",
     "RCON_CONNECTION_FAILED"),
    ("dispute.created", False, "Dispute opened on order ORD-A1B2C3D4E5: reply by 2025-02-05",
     "29.99 USD"),
])
def test_each_event_mails_the_right_people(event_type, to_buyer, subject, content):
    store = make_shop(name="Block Party")
    with transaction.atomic():
        emit(store=store, event_type=event_type, data=EXAMPLES[event_type])
    mail.outbox.clear()
    outbox_scan()
    rows = list(EmailOutbox.objects.all())
    assert len(rows) == 1
    assert email_send(outbox_id=rows[0].pk) == "sent"
    (message,) = mail.outbox
    expected = "player@example.com" if to_buyer else owner_of(store).email
    assert message.to == [expected]
    assert message.subject == subject
    assert content in message.body and content in message.alternatives[0][0]


def test_mail_wears_the_store_brand_from_its_published_store_builder_settings():
    from shopkeep.notifications.kinds import KINDS
    from shopkeep.notifications.services import email_render
    from shopkeep.themes.models import StorefrontSettings

    store = make_shop(name="Block Party")
    logo = "0123456789abcdef01234567.png"
    StorefrontSettings.objects.create(store=store, published={
        "theme": "midnight", "options": {"accent": "#a78bfa", "background": "#0d1017"},
        "logo": logo}, draft={"options": {"accent": "#00ff00"}})
    context = {"customer_name": "Alex", "product_name": "VIP", "amount": "9.99",
               "currency": "USD", "interval": "month", "period_end": "2026-01-01",
               "account_url": "https://shop.example/account/"}
    subject, text, html = email_render(store=store, kind=KINDS["subscription_started"],
                                       context=context)
    assert "background:#a78bfa" in html and "#00ff00" not in html  # published, not draft
    assert "color:#111827" in html  # dark ink on a light accent
    assert f"/media/store-images/{logo}" in html and 'alt="Block Party"' in html
    assert "background:#0d1017" in html
    assert "Block Party" in text and subject == "Your VIP subscription has started"


def test_without_store_builder_settings_mail_uses_plain_defaults():
    from shopkeep.notifications.services import branding

    brand = branding(make_shop(name="Plain"))
    assert brand["name"] == "Plain" and brand["logo_url"] == ""
    assert brand["on_primary"] in ("#ffffff", "#111827")
