"""E-mails: made from events by the scan, sent by the worker, once, in HTML and text."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail

from shopkeep.notifications.models import EmailOutbox, MemberEmailPreference
from shopkeep.notifications.services import email_send, outbox_scan
from shopkeep.payments.flows import refund_execute, refund_request
from shopkeep.stores.models import Membership, Role
from tests.commerce import make_product, make_shop, paid_order
from tests.factories import add_member, owner_of
from tests.promotions.helpers import make_coupon, make_gift_card, owner

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return make_shop(name="Block Party")


@pytest.fixture
def product(store):
    return make_product(store, price="20.00")


def _deliver() -> list:
    """What the worker does: scan, then send every queued mail; returns the sent messages."""
    mail.outbox.clear()
    outbox_scan()
    for row in EmailOutbox.objects.filter(status="pending").order_by("id"):
        assert email_send(outbox_id=row.pk) == "sent"
    return list(mail.outbox)


def _one(messages, to):
    found = [m for m in messages if m.to == [to]]
    assert len(found) == 1, [(m.to, m.subject) for m in messages]
    return found[0]


def _html(message) -> str:
    (html, kind), = message.alternatives
    assert kind == "text/html"
    return html


def test_a_purchase_with_a_coupon_and_a_gift_card_sends_a_receipt_showing_both(
        store, product, django_capture_on_commit_callbacks):
    make_coupon(store, "SAVE10")
    card = make_gift_card(store, "5.00")
    mail.outbox.clear()
    order = paid_order(store, product, capture=django_capture_on_commit_callbacks,
                       coupon_code="SAVE10", gift_card_code=card.code, quantity=2)
    assert not mail.outbox  # nothing is sent inside the request or the payment notice
    messages = _deliver()
    receipt = _one(messages, "player@example.com")
    assert receipt.subject == f"Your receipt for order {order.order_number}"
    for body in (receipt.body, _html(receipt)):
        assert "Coupon SAVE10" in body
        assert "4.00 USD" in body  # the discount
        assert "36.00 USD" in body  # the total
        assert card.code[-4:] in body and "5.00 USD" in body  # the gift card's share
        assert "31.00 USD" in body  # charged to the card
        assert f"/s/{store.slug}/order/{order.access_key}/" in body
        assert "Block Party" in body
    assert "<script" not in _html(receipt)
    notice = _one(messages, owner_of(store).email)
    assert notice.subject == f"New sale: 36.00 USD (order {order.order_number})"


def test_scanning_and_sending_again_sends_nothing_twice(
        store, product, django_capture_on_commit_callbacks):
    paid_order(store, product, capture=django_capture_on_commit_callbacks)
    first = _deliver()
    assert len(first) == 2
    row = EmailOutbox.objects.get(kind="receipt")
    assert email_send(outbox_id=row.pk) == "not mine"
    assert _deliver() == []
    assert EmailOutbox.objects.count() == 2


def test_owner_notices_go_to_owners_and_to_members_who_opt_in(
        store, product, django_capture_on_commit_callbacks):
    quiet = add_member(store, Role.ADMIN)
    keen = add_member(store, Role.SUPPORT)
    MemberEmailPreference.objects.create(membership=keen, new_sale=True)
    owner_membership = Membership.objects.get(store=store, role=Role.OWNER)
    MemberEmailPreference.objects.create(membership=owner_membership, new_sale=False)
    paid_order(store, product, capture=django_capture_on_commit_callbacks)
    recipients = sorted(m.to[0] for m in _deliver() if m.subject.startswith("New sale"))
    assert recipients == [keen.user.email]
    assert quiet.user.email not in recipients


def test_another_stores_orders_mail_nobody_here(
        store, product, django_capture_on_commit_callbacks):
    other = make_shop(name="Other Place")
    paid_order(other, make_product(other), capture=django_capture_on_commit_callbacks)
    messages = _deliver()
    assert owner_of(store).email not in [m.to[0] for m in messages]
    assert all("Block Party" not in m.body for m in messages)


def test_a_refund_confirmation_says_how_much_went_back_to_the_gift_card(store, product):
    from shopkeep.orders.models import Order
    from shopkeep.orders.services import Line
    from shopkeep.payments.flows import order_create
    from tests.commerce import buyer

    card = make_gift_card(store, "50.00")
    order = order_create(store=store, lines=[Line(product.pk, 1)], customer=buyer(),
                         gift_card_code=card.code)
    _deliver()
    refund = refund_request(store=store, actor=owner(store), order=order, amount="5.00",
                            reason="Lag")
    refund_execute(refund_id=refund.pk)
    confirmation = _one(_deliver(), "player@example.com")
    assert confirmation.subject == (
        f"Refund of 5.00 USD for order {Order.objects.get().order_number}")
    assert "5.00 USD of it is back on your gift card" in confirmation.body
    assert "(Lag)" in _html(confirmation)


def test_hostile_names_are_escaped_in_html_and_plain_in_text(
        store, product, django_capture_on_commit_callbacks):
    from shopkeep.customers.services import CustomerInput
    from shopkeep.orders.services import Line
    from shopkeep.payments.flows import checkout_start, order_create
    from tests.commerce import pay

    order = order_create(store=store, lines=[Line(product.pk, 1)], customer=CustomerInput(
        email="x@example.com", player_name="Steve", name="<b>Bob</b> & co"))
    checkout_start(order=order, success_url="https://x.test/", cancel_url="https://x.test/")
    pay(order, capture=django_capture_on_commit_callbacks)
    receipt = _one(_deliver(), "x@example.com")
    assert "&lt;b&gt;Bob&lt;/b&gt; &amp; co" in _html(receipt)
    assert "Hi <b>Bob</b> & co," in receipt.body


def test_a_failed_send_is_retried_and_then_sent_once(
        store, product, django_capture_on_commit_callbacks, settings, monkeypatch):
    paid_order(store, product, capture=django_capture_on_commit_callbacks)
    outbox_scan()
    row = EmailOutbox.objects.get(kind="receipt")
    from django.core.mail.backends.locmem import EmailBackend

    def refuse(self, messages):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(EmailBackend, "send_messages", refuse)
    assert email_send(outbox_id=row.pk) == "failed"
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("pending", 1) and "smtp down" in row.error
    monkeypatch.undo()
    mail.outbox.clear()
    assert email_send(outbox_id=row.pk) == "sent"
    assert len(mail.outbox) == 1
    row.refresh_from_db()
    assert row.status == "sent" and row.attempts == 2


def test_buyer_receipts_can_be_turned_off_per_store(
        store, product, django_capture_on_commit_callbacks):
    from shopkeep.notifications.models import StoreEmailSettings

    StoreEmailSettings.objects.create(store=store, buyer_receipts=False)
    paid_order(store, product, capture=django_capture_on_commit_callbacks)
    assert [m.to for m in _deliver()] == [[owner_of(store).email]]


def test_the_totals_on_the_receipt_add_up(store, product, django_capture_on_commit_callbacks):
    order = paid_order(store, product, capture=django_capture_on_commit_callbacks)
    receipt = _one(_deliver(), "player@example.com")
    assert order.total == Decimal("20.00")
    assert "Total: 20.00 USD" in receipt.body
    assert "Coupon" not in receipt.body and "gift card" not in receipt.body
