"""The demo store has a running sale, a coupon and a gift card, and a rerun keeps them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail

from shopkeep.catalog.models import Product
from shopkeep.demo import DEMO_SLUG, demo_seed
from shopkeep.notifications.models import EmailOutbox
from shopkeep.notifications.services import email_send, outbox_scan
from shopkeep.orders.services import Line
from shopkeep.payments.flows import checkout_start, order_create
from shopkeep.promotions.models import Coupon, GiftCard, Sale, TierGroup
from shopkeep.promotions.pricing import price_products
from shopkeep.promotions.tiers import ladder_of
from shopkeep.stores.models import Store
from tests.commerce import buyer, pay

pytestmark = pytest.mark.django_db


def test_the_demo_store_has_a_running_sale_a_coupon_and_a_gift_card():
    result = demo_seed()
    store = Store.objects.get(slug=DEMO_SLUG)
    kit = Product.objects.get(store=store, name="Diamond Kit")
    price, sale = price_products(store=store, products=[kit])[kit.pk]
    assert sale is not None and price == Decimal("3.99")
    assert Coupon.objects.get(store=store).code == result["coupon_code"] == "WELCOME10"
    card = GiftCard.objects.get(store=store)
    assert result["gift_card_code"] == card.display_code and card.balance == Decimal("25.00")
    demo_seed()
    assert (Sale.objects.filter(store=store).count(), Coupon.objects.filter(store=store).count(),
            GiftCard.objects.filter(store=store).count()) == (1, 1, 1)


def test_a_demo_purchase_with_the_coupon_and_gift_card_gets_a_receipt_showing_both(
        django_capture_on_commit_callbacks):
    result = demo_seed()
    store = Store.objects.get(slug=DEMO_SLUG)
    vip = Product.objects.get(store=store, name="VIP Rank")
    order = order_create(store=store, lines=[Line(vip.pk, 1)], customer=buyer(),
                         coupon_code=result["coupon_code"],
                         gift_card_code=result["gift_card_code"])
    # 29.99 less 10% is 26.99; the 25.00 card leaves 1.99 for the card payment.
    assert (order.total, order.gift_card_amount, order.amount_due) == (
        Decimal("26.99"), Decimal("25.00"), Decimal("1.99"))
    checkout_start(order=order, success_url="https://x.test/", cancel_url="https://x.test/")
    assert pay(order, capture=django_capture_on_commit_callbacks)[0]
    mail.outbox.clear()
    outbox_scan()
    for row in EmailOutbox.objects.filter(kind="receipt"):
        email_send(outbox_id=row.pk)
    (receipt,) = mail.outbox
    assert "Coupon WELCOME10: -3.00 USD" in receipt.body
    assert "Paid by gift card" in receipt.body and "25.00 USD" in receipt.body


def test_the_demo_store_sells_a_gift_card_and_ranks_vip_below_mvp_once_across_reruns():
    demo_seed()
    demo_seed()
    store = Store.objects.get(slug=DEMO_SLUG)
    (card,) = Product.objects.filter(store=store, type=Product.Type.GIFT_CARD)
    assert card.price == Decimal("25.00")
    (group,) = TierGroup.objects.filter(store=store)
    assert [t.product.name for t in ladder_of(group)] == ["VIP Rank", "MVP Rank"]
    assert Product.objects.filter(store=store, name="MVP Rank").count() == 1
