"""Checkout and the order state machine: create (stock held) -> paid | payment failed | expired.

Every transition is one transaction with its event row. Stock is held by a conditional UPDATE
(``stock_quantity >= n``) at order creation, so concurrent buyers of the last units cannot
oversell: the database serialises the decrements and re-checks the condition for each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from shopkeep.catalog.models import Product
from shopkeep.catalog.selectors import owner_required_signins
from shopkeep.core.errors import Conflict, ServiceError
from shopkeep.core.ids import order_number, random_string
from shopkeep.core.money import quantize
from shopkeep.core.text import clean_line, has_control_chars
from shopkeep.customers.bans import ban_check
from shopkeep.customers.services import (
    CustomerInput,
    checkout_identity,
    clean_country,
    clean_email,
    clean_name,
    customer_get_or_create,
    customer_record_paid_identity,
    identity_of,
)
from shopkeep.events.services import emit
from shopkeep.orders.lifecycle import order_sync
from shopkeep.orders.models import Order, OrderItem
from shopkeep.orders.payloads import order_data, payment_failed_data
from shopkeep.orders.tax import TaxResult, tax_compute
from shopkeep.orders.upgrade_lines import (
    Upgrade,
    apply_upgrades,
    claim_upgrades,
    release_upgrades,
)
from shopkeep.payments.selectors import checkout_gateways
from shopkeep.promotions import coupons, giftcards
from shopkeep.promotions.creators import creator_code_find
from shopkeep.promotions.models import GiftCardTransaction
from shopkeep.promotions.pricing import Quote, price_lines
from shopkeep.stores.audit import Actor, audit_record
from shopkeep.stores.models import Store

MAX_LINES = 20
MAX_QUANTITY = 99
RESERVATION = timedelta(minutes=30)
GIFT_CARD_GATEWAY = "gift_card"
ADDRESS_FIELDS = ("line1", "line2", "city", "state", "postal_code", "country")


@dataclass(frozen=True)
class Line:
    product_id: int
    quantity: int = 1


def clean_billing_address(raw: dict | None) -> dict | None:
    if not raw or not any((raw.get(k) or "").strip() for k in ADDRESS_FIELDS):
        return None
    unknown = set(raw) - set(ADDRESS_FIELDS)
    if unknown:
        raise ServiceError("invalid_address", "Unknown address field(s): "
                           + ", ".join(sorted(unknown)), field="billing_address")
    address = {}
    for key in ADDRESS_FIELDS:
        value = raw.get(key) or ""
        if not isinstance(value, str) or has_control_chars(value) or len(value) > 200:
            raise ServiceError("invalid_address", f"The address {key} is not valid.",
                               field=f"billing_address.{key}")
        if key == "line2" and not value.strip():
            continue
        address[key] = clean_line(value, max_length=200)
    if not address.get("line1") or not address.get("country"):
        raise ServiceError("invalid_address", "An address needs at least a first line and a "
                           "country.", field="billing_address")
    address["country"] = clean_country(address["country"])
    return address


def _merge(lines: list[Line]) -> dict[int, int]:
    if not lines:
        raise ServiceError("empty_basket", "The basket is empty.", field="items")
    merged: dict[int, int] = {}
    for line in lines:
        if not isinstance(line.quantity, int) or line.quantity < 1:
            raise ServiceError("invalid_quantity", "Quantities start at 1.", field="items")
        merged[line.product_id] = merged.get(line.product_id, 0) + line.quantity
    if len(merged) > MAX_LINES:
        raise ServiceError("too_many_items", f"A basket holds at most {MAX_LINES} products.",
                           field="items")
    if any(q > MAX_QUANTITY for q in merged.values()):
        raise ServiceError("invalid_quantity", f"At most {MAX_QUANTITY} of one product.",
                           field="items")
    return merged


def _reserve(product: Product, quantity: int) -> None:
    if not product.stock_enabled:
        return
    taken = (Product.objects.filter(pk=product.pk, stock_enabled=True,
                                    stock_quantity__gte=quantity)
             .update(stock_quantity=F("stock_quantity") - quantity))
    if not taken:
        raise Conflict("out_of_stock", f"{product.name} is out of stock.", field="items")


def _release_stock(order: Order) -> None:
    for item in order.items.all():
        Product.objects.filter(pk=item.product_id, stock_enabled=True).update(
            stock_quantity=F("stock_quantity") + item.quantity)
    order.stock_released = True


def _apply_tax(quote: Quote, result: TaxResult) -> None:
    quote.tax, quote.tax_rate, quote.tax_inclusive = result.tax, result.rate, result.inclusive
    quote.tax_label = result.label
    quote.total = result.total


def order_quote(*, store: Store, lines: list[Line], coupon_code: str = "", email: str = "",
                gift_card_code: str = "", country: str = "", region: str = "",
                vat_number: str = "", upgrades: dict[int, Upgrade] | None = None) -> Quote:
    """What the basket costs right now, as the basket and checkout pages show it and as
    ``order_create`` will charge it. Unknown or unusable codes leave the price unchanged and
    say why (``coupon_message``, ``notes``)."""
    merged = _merge(lines)
    products = {p.pk: p for p in Product.objects.on_sale().filter(store=store, pk__in=merged)}
    quote = price_lines(store=store, items=[(products[pid], q) for pid, q in merged.items()
                                            if pid in products])
    if upgrades:
        try:
            apply_upgrades(quote=quote, upgrades=upgrades)
        except ServiceError as exc:
            quote.notes.append(exc.message)
    quote = coupons.coupon_apply(store=store, code=coupon_code, quote=quote, email=email)
    try:
        _apply_tax(quote, tax_compute(store=store, amount=quote.subtotal - quote.discount,
                                      country=country, region=region, vat_number=vat_number))
    except ServiceError as exc:
        quote.notes.append(exc.message)
        _apply_tax(quote, tax_compute(store=store, amount=quote.subtotal - quote.discount,
                                      country=country, region=region))
    if gift_card_code:
        try:
            card = giftcards.gift_card_find(store=store, code=gift_card_code)
        except ServiceError as exc:
            quote.notes.append(exc.message)
        else:
            quote.gift_card = min(card.balance, quote.total)
    return quote


def _apply_gift_card(order: Order, code: str) -> None:
    card = giftcards.gift_card_find(store=order.store, code=code)
    if card.currency != order.currency:
        raise ServiceError("gift_card_currency", "That gift card is in another currency.",
                           field="gift_card_code")
    amount = giftcards.gift_card_take(card=card, up_to=order.total,
                                      order_number=order.order_number)
    order.gift_card = card
    order.gift_card_amount = amount


@transaction.atomic
def order_create_pending(*, store: Store, lines: list[Line], customer: CustomerInput,
                         billing_address: dict | None = None, phone: str = "",
                         gateway: str = "", coupon_code: str = "",
                         gift_card_code: str = "", vat_number: str = "",
                         creator_code: str = "", buyer_ip: str = "",
                         upgrades: dict[int, Upgrade] | None = None,
                         show_in_widgets: bool = False,
                         basket_reminder: bool = False) -> Order:
    """A pending order with its stock held for ``RESERVATION``; ``order.created`` (legacy).

    Checkouts call ``payments.flows.order_create``, which also takes the payment of an order
    a gift card pays in full (its ``payment_gateway`` is then ``GIFT_CARD_GATEWAY``).

    Prices are the sale prices running now, less the coupon; a gift card pays what it holds
    and the gateway the rest. An order the gift card pays in full is paid at once, with no
    gateway. ``gateway`` is the buyer's choice among the store's (``checkout_gateways``);
    empty means the store's default: Stripe once connected, PayPal, else the sandbox. The
    sandbox can always be chosen in test mode, where no real money moves."""
    if store.status != Store.Status.ACTIVE:
        raise ServiceError("store_closed", "This store is not taking orders.")
    offered = checkout_gateways(store=store)
    if gateway and gateway not in offered and not (gateway == "sandbox" and store.test_mode):
        raise ServiceError("gateway_unavailable", "This store does not take payments with "
                           f"{gateway[:32]!r}; choose one of: {', '.join(offered)}.",
                           field="gateway")
    gateway = gateway or offered[0]
    merged = _merge(lines)
    products = {p.pk: p for p in Product.objects.on_sale().filter(store=store, pk__in=merged)}
    missing = [pid for pid in merged if pid not in products]
    if missing:
        raise ServiceError("product_unavailable", "A product in the basket is no longer on "
                           "sale.", field="items")
    if any(p.is_subscription for p in products.values()) and (
            len(products) > 1 or sum(merged.values()) > 1):
        raise ServiceError("subscription_alone", "A subscription is bought on its own, one at a "
                           "time.", field="items")
    if gift_card_code and any(p.type == Product.Type.GIFT_CARD for p in products.values()):
        raise ServiceError("gift_card_for_gift_card", "A gift card cannot pay for another gift "
                           "card; pay for it by card.", field="gift_card_code")
    address = clean_billing_address(billing_address)
    phone = clean_line(phone, max_length=32)
    if phone and not all(ch.isdigit() or ch in "+ -()" for ch in phone):
        raise ServiceError("invalid_phone", "The phone number is not valid.", field="phone")
    # Validated before anything is written; an existing customer is not changed by an unpaid
    # checkout, and the order freezes the identity it delivers to (issue 12).
    creator = creator_code_find(store=store, code=creator_code)
    typed = identity_of(store, customer)
    # Before anything is written: a banned buyer leaves no customer row, hold or coupon use.
    ban_check(store=store, email=clean_email(customer.email), identity=typed, ip=buyer_ip)
    name, country = clean_name(customer.name), clean_country(customer.country)
    buyer, _ = customer_get_or_create(store=store, data=customer)
    identity = checkout_identity(customer=buyer, typed=typed)
    for product in products.values():
        # A sign-in the owner ticked on the product binds every checkout path: the storefront
        # fills these ids only from a sign-in, the store API from the store's own backend.
        # (A Discord role alone is required at the storefront, catalog.selectors.
        # required_signins; an API order without the id is linked later with /claim.)
        for provider in sorted(owner_required_signins(product)):
            if not getattr(identity, f"{provider}_id"):
                raise ServiceError("signin_required", f"{product.name} needs a sign-in with "
                                   f"{provider.title()} before checkout.", field=provider)
    for pid, quantity in merged.items():
        _reserve(products[pid], quantity)
    now = timezone.now()
    quote = price_lines(store=store, items=[(products[pid], q) for pid, q in merged.items()],
                        at=now)
    # Tier upgrades (worked out by payments/upgrades.py for this buyer) come off before the
    # coupon, which then discounts what is left, as the basket showed it.
    applied = apply_upgrades(quote=quote, upgrades=upgrades or {}, identity=identity)
    coupon = None
    if coupon_code:
        # A code that stopped applying between the basket and here refuses the order, so
        # the buyer never pays a price they were not shown.
        coupon = coupons.coupon_find(store=store, code=coupon_code)
        quote.discount = coupons.coupon_check(coupon=coupon, quote=quote, email=buyer.email,
                                              at=now)
        quote.coupon_code = coupon.code
    subtotal = quantize(quote.subtotal, store.currency)
    # The rate comes from the billing country (the address's, else the one the buyer gave).
    taxed = tax_compute(store=store, amount=subtotal - quote.discount,
                        country=((address or {}).get("country") or customer.country
                                 or buyer.country),
                        region=(address or {}).get("state", ""), vat_number=vat_number)
    total = taxed.total
    if total <= 0 and not coupon:
        raise ServiceError("nothing_to_pay", "Free products cannot be checked out yet.",
                           field="items")
    if total <= 0:
        raise ServiceError("nothing_to_pay", "This code would make the order free, and free "
                           "orders cannot be checked out yet.", field="coupon_code")
    order = Order(store=store, customer=buyer, customer_email=buyer.email,
                  customer_name=name, customer_phone=phone, customer_country=country,
                  billing_address=address, currency=store.currency, subtotal=subtotal,
                  discount=quote.discount, coupon_code=quote.coupon_code,
                  tax=taxed.tax, tax_rate=taxed.rate, tax_inclusive=taxed.inclusive,
                  tax_country=taxed.country if taxed.rate else "",
                  tax_region=taxed.region if taxed.rate else "",
                  vat_number=taxed.vat_number, reverse_charge=taxed.reverse_charge,
                  creator_code=creator.code if creator else "",
                  basket_reminder=bool(basket_reminder),
                  show_in_widgets=show_in_widgets is True,
                  total=total, payment_gateway=gateway, is_test_order=store.test_mode,
                  reserved_until=now + RESERVATION, created_at=now, updated_at=now)
    order.freeze_identity(identity)
    for _attempt in range(5):
        order.order_number, order.access_key = order_number(), random_string(32)
        try:
            with transaction.atomic():
                order.save()
            break
        except IntegrityError:
            continue
    else:  # pragma: no cover - 36**10 numbers; five collisions in a row means a broken RNG
        raise RuntimeError("could not allocate an order number")
    OrderItem.objects.bulk_create([
        OrderItem(store=store, order=order, product=line.product,
                  product_name=line.product.name, product_type=line.product.type,
                  quantity=line.quantity, unit_price=line.unit_price,
                  list_price=line.list_price, sale_name=line.sale.name if line.sale else "",
                  total=quantize(line.total, store.currency))
        for line in quote.lines])
    claim_upgrades(order=order, applied=applied)
    if coupon is not None:
        coupons.coupon_take(coupon=coupon, customer=buyer, order_number=order.order_number,
                            discount=quote.discount, quote=quote)
    if gift_card_code:
        _apply_gift_card(order, gift_card_code)
        if order.amount_due == 0:
            order.payment_gateway = GIFT_CARD_GATEWAY
        order.save(update_fields=["gift_card", "gift_card_amount", "payment_gateway"])
    emit(store=store, event_type="order.created", data=order_data(order))
    audit_record(store=store, actor=Actor.system("checkout"), action="order.created", obj=order,
                 details={"order_number": order.order_number, "total": str(order.total),
                          "discount": str(order.discount), "coupon": order.coupon_code,
                          "gift_card": str(order.gift_card_amount)})
    return order


def _locked(store: Store, order_number_: str) -> Order | None:
    """The store's order, row-locked; another store's order number is unknown here."""
    return (Order.objects.select_for_update().select_related("store")
            .filter(store=store, order_number=order_number_).first())


@transaction.atomic
def order_mark_paid(*, store: Store, order_number: str, gateway: str, payment_id: str,
                    paid_at: datetime) -> Order | None:
    """The gateway took the money: ``order.received`` and legacy ``purchase.completed``.

    Returns None when the order is unknown (or another store's) or was already paid (a
    second notice changes nothing). An order whose stock hold ran out is still honoured:
    the money is taken. The purchase commands are queued by the caller in this same
    transaction (``payments.flows.order_paid``).
    """
    order = _locked(store, order_number)
    if order is None or order.payment_gateway != gateway:
        return None
    if order.paid_at is not None:
        if order.gateway_payment_id != payment_id:
            audit_record(store=order.store, actor=Actor.system(gateway),
                         action="order.duplicate_payment", obj=order,
                         details={"payment_id": payment_id})
        return None
    if order.stock_released:
        for item in order.items.all():
            Product.objects.filter(pk=item.product_id, stock_enabled=True).update(
                stock_quantity=Greatest(F("stock_quantity") - item.quantity, 0))
        order.stock_released = False
    if order.cancelled_at is not None:
        # The expiry cancelled the items; the money is taken, so they are owed again.
        order.items.filter(delivery_status=OrderItem.DeliveryStatus.CANCELLED).update(
            delivery_status=OrderItem.DeliveryStatus.PENDING)
    order.paid_at = paid_at
    order.gateway_payment_id = payment_id
    order.reserved_until = None
    order.cancelled_at = None
    order.updated_at = timezone.now()
    order.save()
    order_sync(order=order)
    # The buyer paid: what they typed may now become the customer's stored identity. The
    # order's own snapshot, and every earlier order's, stays as it was.
    customer_record_paid_identity(store=order.store, customer=order.customer,
                                  identity=order.identity, name=order.customer_name,
                                  country=order.customer_country, given_at=order.created_at)
    data = order_data(order)
    emit(store=order.store, event_type="order.received", data=data)
    emit(store=order.store, event_type="purchase.completed", data=data)
    audit_record(store=order.store, actor=Actor.system(gateway), action="order.paid", obj=order,
                 details={"payment_id": payment_id})
    return order


@transaction.atomic
def order_payment_failed(*, store: Store, order_number: str, gateway: str, error_code: str,
                         error_message: str, failed_at: datetime) -> Order | None:
    """A declined attempt: ``payment.failed``. The order stays open for another try."""
    order = _locked(store, order_number)
    if order is None or order.payment_gateway != gateway or order.paid_at is not None:
        return None  # unknown, or a failure that arrived after the success: nothing to say
    order.payment_failed_at = failed_at
    order.updated_at = timezone.now()
    order.save(update_fields=["payment_failed_at", "updated_at"])
    order_sync(order=order)
    emit(store=order.store, event_type="payment.failed", data=payment_failed_data(
        order, error_code=error_code[:64], error_message=error_message[:300],
        failed_at=failed_at))
    audit_record(store=order.store, actor=Actor.system(gateway), action="order.payment_failed",
                 obj=order, details={"error_code": error_code})
    return order


def _release_promotions(order: Order) -> None:
    """An order that was never paid gives back its coupon use and its gift card debit."""
    coupons.coupon_release(store=order.store, order_number=order.order_number)
    release_upgrades(order=order)
    if order.gift_card_id and order.gift_card_amount > 0:
        owed = giftcards.gift_card_debited_for(card_id=order.gift_card_id,
                                               order_number=order.order_number)
        if owed > 0:
            giftcards.gift_card_credit(card_id=order.gift_card_id, amount=owed,
                                       order_number=order.order_number,
                                       kind=GiftCardTransaction.Kind.CREDIT,
                                       actor="checkout", note="order not paid")


@transaction.atomic
def order_cancel_unpaid(*, order: Order, reason: str) -> bool:
    """Give up on an unpaid order and release its stock; legacy ``order.updated``."""
    order = Order.objects.select_for_update().select_related("store").get(pk=order.pk)
    if order.paid_at is not None or order.cancelled_at is not None:
        return False
    _release_stock(order)
    _release_promotions(order)
    order.cancelled_at = order.updated_at = timezone.now()
    order.reserved_until = None
    order.save()
    order.items.update(delivery_status=OrderItem.DeliveryStatus.CANCELLED)
    order_sync(order=order)
    emit(store=order.store, event_type="order.updated", data=order_data(order))
    audit_record(store=order.store, actor=Actor.system(), action="order.cancelled", obj=order,
                 details={"reason": reason})
    return True


def orders_expire_unpaid(*, now: datetime | None = None) -> int:
    """Periodic: cancel unpaid orders whose stock hold ran out. One transaction per order."""
    now = now or timezone.now()
    expired = Order.objects.filter(status=Order.Status.PENDING, paid_at__isnull=True,
                                   reserved_until__lt=now)
    return sum(order_cancel_unpaid(order=order, reason="stock hold expired")
               for order in expired.only("pk")[:500])
