"""Gift cards: a code with a balance in the store's currency, and a ledger row per change.

Every debit is one conditional UPDATE (``balance >= amount``) with its row count checked, so
concurrent orders can never take a balance below zero (the CHECK constraint is the backstop);
every change writes its ledger row in the same transaction, so the ledger sums to the balance.
"""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from shopkeep.core.errors import Conflict, ServiceError
from shopkeep.core.money import InvalidAmount, parse_amount
from shopkeep.core.text import clean_line
from shopkeep.promotions.models import GiftCard, GiftCardTransaction
from shopkeep.stores.audit import Actor, audit_record
from shopkeep.stores.authz import require_permission
from shopkeep.stores.models import Store
from shopkeep.stores.permissions import Perm

# No 0/O, 1/I/L: codes are read aloud and typed from screenshots.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 16


def normalise_code(raw: str) -> str:
    return "".join(ch for ch in (raw or "").upper() if ch.isalnum())[:32]


def _new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def gift_card_find(*, store: Store, code: str) -> GiftCard:
    code = normalise_code(code)
    card = GiftCard.objects.filter(store=store, code=code).first() if code else None
    if card is None or not card.is_active:
        raise ServiceError("gift_card_unknown", "That gift card code is not valid here.",
                           field="gift_card_code")
    if card.expires_at and card.expires_at <= timezone.now():
        raise ServiceError("gift_card_expired", "That gift card has expired.",
                           field="gift_card_code")
    return card


def _amount(value: object, currency: str, field: str = "amount") -> Decimal:
    try:
        return parse_amount(value, currency, allow_zero=False)
    except InvalidAmount as exc:
        raise ServiceError("invalid_amount", f"Amount: {exc}.", field=field) from None


def _ledger(card: GiftCard, *, kind: str, amount: Decimal, actor: str, order_number: str = "",
            note: str = "") -> GiftCardTransaction:
    card.refresh_from_db(fields=["balance", "updated_at"])
    return GiftCardTransaction.objects.create(
        store_id=card.store_id, card=card, kind=kind, amount=amount, balance_after=card.balance,
        order_number=order_number, note=note[:200], actor=actor[:200])


@transaction.atomic
def gift_card_issue(*, store: Store, actor: Actor, amount: object, note: str = "",
                    recipient_email: str = "", source_order_number: str = "") -> GiftCard:
    """A new card holding ``amount``; the code is random (16 of 31 characters, ~79 bits)."""
    require_permission(store, actor, Perm.CATALOG_MANAGE)
    value = _amount(amount, store.currency)
    note = clean_line(note, max_length=200)
    for _attempt in range(5):
        try:
            with transaction.atomic():
                card = GiftCard.objects.create(
                    store=store, code=_new_code(), currency=store.currency,
                    initial_balance=value, balance=value, note=note, issued_by=actor.label[:200],
                    recipient_email=recipient_email[:254],
                    source_order_number=source_order_number)
            break
        except IntegrityError:
            continue
    else:  # pragma: no cover - 31**16 codes
        raise RuntimeError("could not allocate a gift card code")
    _ledger(card, kind=GiftCardTransaction.Kind.ISSUE, amount=value, actor=actor.label,
            order_number=source_order_number, note=note)
    audit_record(store=store, actor=actor, action="gift_card.issued", obj=card,
                 details={"amount": str(value), "code_end": card.code[-4:]})
    return card


def gift_card_debit(*, card: GiftCard, amount: Decimal, order_number: str,
                    actor: str = "checkout") -> GiftCardTransaction:
    """Take ``amount`` for an order. Call inside the order's transaction."""
    if amount <= 0:
        raise ServiceError("invalid_amount", "A gift card debit must be positive.")
    taken = (GiftCard.objects.filter(pk=card.pk, is_active=True, balance__gte=amount)
             .update(balance=F("balance") - amount, updated_at=timezone.now()))
    if taken != 1:
        raise Conflict("gift_card_insufficient", "That gift card no longer holds enough; "
                       "check its balance and try again.", field="gift_card_code")
    return _ledger(card, kind=GiftCardTransaction.Kind.DEBIT, amount=-amount, actor=actor,
                   order_number=order_number)


def gift_card_take(*, card: GiftCard, up_to: Decimal, order_number: str,
                   actor: str = "checkout") -> Decimal:
    """Take what the card holds, at most ``up_to``, for an order; returns the amount taken.

    The row is locked before the balance is read, so of two racing orders the second sees
    what the first left (and takes that, or is told the card is empty) rather than failing on
    a stale figure; the conditional UPDATE in ``gift_card_debit`` still guards the write."""
    locked = GiftCard.objects.select_for_update().get(pk=card.pk)
    amount = min(locked.balance, up_to)
    if amount <= 0:
        raise ServiceError("gift_card_empty", "That gift card has no balance left.",
                           field="gift_card_code")
    gift_card_debit(card=locked, amount=amount, order_number=order_number, actor=actor)
    return amount


def gift_card_credit(*, card_id: int, amount: Decimal, order_number: str, kind: str,
                     actor: str, note: str = "") -> GiftCardTransaction:
    """Give ``amount`` back (an unpaid order given up, or a refund). Inside the caller's
    transaction. Never more than the order took from the card, which the caller checks."""
    card = GiftCard.objects.get(pk=card_id)
    GiftCard.objects.filter(pk=card.pk).update(balance=F("balance") + amount,
                                               updated_at=timezone.now())
    return _ledger(card, kind=kind, amount=amount, actor=actor, order_number=order_number,
                   note=note)


def gift_card_debited_for(*, card_id: int, order_number: str) -> Decimal:
    """What an order took from the card, net of what it gave back."""
    rows = GiftCardTransaction.objects.filter(card_id=card_id, order_number=order_number,
                                              kind__in=[GiftCardTransaction.Kind.DEBIT,
                                                        GiftCardTransaction.Kind.CREDIT,
                                                        GiftCardTransaction.Kind.REFUND])
    return -sum((row.amount for row in rows), Decimal("0"))


@transaction.atomic
def gift_card_adjust(*, store: Store, actor: Actor, card: GiftCard, amount: object,
                     direction: str, note: str = "") -> GiftCardTransaction:
    """The owner adds to or takes from a balance (a goodwill top-up, a correction)."""
    require_permission(store, actor, Perm.CATALOG_MANAGE)
    value = _amount(amount, store.currency)
    note = clean_line(note, max_length=200)
    if direction == "add":
        GiftCard.objects.filter(pk=card.pk, store=store).update(
            balance=F("balance") + value, updated_at=timezone.now())
        signed = value
    elif direction == "remove":
        taken = (GiftCard.objects.filter(pk=card.pk, store=store, balance__gte=value)
                 .update(balance=F("balance") - value, updated_at=timezone.now()))
        if taken != 1:
            raise Conflict("gift_card_insufficient", "The card holds less than that.",
                           field="amount")
        signed = -value
    else:
        raise ServiceError("invalid_direction", "Choose add or remove.", field="direction")
    row = _ledger(card, kind=GiftCardTransaction.Kind.ADJUST, amount=signed, actor=actor.label,
                  note=note)
    audit_record(store=store, actor=actor, action="gift_card.adjusted", obj=card,
                 details={"amount": str(signed), "balance": str(row.balance_after)})
    return row


@transaction.atomic
def gift_card_disable(*, store: Store, actor: Actor, card: GiftCard) -> GiftCard:
    require_permission(store, actor, Perm.CATALOG_MANAGE)
    GiftCard.objects.filter(pk=card.pk, store=store).update(is_active=False,
                                                            updated_at=timezone.now())
    card.refresh_from_db()
    audit_record(store=store, actor=actor, action="gift_card.disabled", obj=card)
    return card


def gift_card_issue_sold(*, store: Store, amount: Decimal, order_number: str,
                         recipient_email: str, note: str) -> GiftCard:
    """A card bought as a product, inside the payment's transaction: the buyer paid for it,
    so no member's permission is asked. The ledger's issue row names the order."""
    for _attempt in range(5):
        try:
            with transaction.atomic():
                card = GiftCard.objects.create(
                    store=store, code=_new_code(), currency=store.currency,
                    initial_balance=amount, balance=amount, note=note[:200],
                    issued_by="purchase", recipient_email=recipient_email[:254],
                    source_order_number=order_number)
            break
        except IntegrityError:
            continue
    else:  # pragma: no cover - 31**16 codes
        raise RuntimeError("could not allocate a gift card code")
    _ledger(card, kind=GiftCardTransaction.Kind.ISSUE, amount=amount, actor="purchase",
            order_number=order_number, note=note)
    return card


def gift_cards_sold_by(*, store: Store, order_number: str) -> list[GiftCard]:
    return list(GiftCard.objects.filter(store=store, source_order_number=order_number)
                .order_by("id"))


def gift_card_unspent_lock(*, store: Store, order_number: str) -> list[GiftCard]:
    """The cards an order bought, row-locked (a checkout spending one waits, or is waited
    for), so a refund reads balances nobody is changing."""
    return list(GiftCard.objects.select_for_update()
                .filter(store=store, source_order_number=order_number).order_by("id"))


def gift_card_void(*, card: GiftCard, amount: Decimal, order_number: str, note: str,
                   actor: str) -> GiftCardTransaction:
    """Take ``amount`` of a sold card's unspent balance away because its purchase is being
    refunded; a card left at zero can no longer be used. Inside the refund's transaction."""
    taken = (GiftCard.objects.filter(pk=card.pk, balance__gte=amount)
             .update(balance=F("balance") - amount, updated_at=timezone.now()))
    if taken != 1:
        raise Conflict("gift_card_spent", "A gift card bought with this order was just spent; "
                       "reload and try again.", field="amount")
    GiftCard.objects.filter(pk=card.pk, balance=0).update(is_active=False)
    return _ledger(card, kind=GiftCardTransaction.Kind.VOID, amount=-amount, actor=actor,
                   order_number=order_number, note=note)


def gift_card_unvoid(*, order_number: str, note: str, actor: str) -> int:
    """A refund that failed gives back what it voided (rows with ``note``)."""
    rows = list(GiftCardTransaction.objects.filter(order_number=order_number, note=note,
                                                   kind=GiftCardTransaction.Kind.VOID))
    for row in rows:
        GiftCard.objects.filter(pk=row.card_id).update(
            balance=F("balance") - row.amount, is_active=True, updated_at=timezone.now())
        _ledger(row.card, kind=GiftCardTransaction.Kind.CREDIT, amount=-row.amount,
                actor=actor, order_number=order_number, note=f"{note} failed")
    return len(rows)
