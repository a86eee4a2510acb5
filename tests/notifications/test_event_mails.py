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
