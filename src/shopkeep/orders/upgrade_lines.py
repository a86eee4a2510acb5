"""The order's side of a tier upgrade: a credit on one line, and the claim on the lower tier.

Which tier a buyer holds and what it is worth is worked out by the flow layer
(``payments/upgrades.py``), which sees subscriptions; it hands the order an ``Upgrade`` per
product. Here the credit comes off the line's unit price (so seed 002's ``unit_price`` and
``total`` stay what was charged), and the lower tier's item is claimed by a conditional
UPDATE whose row count is checked: of two orders racing to upgrade from the same rank, one
gets the credit and the other is refused, in its own transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from shopkeep.core.errors import Conflict, ServiceError
from shopkeep.core.money import quantize
from shopkeep.customers.identity import PlayerIdentity
from shopkeep.orders.models import Order, OrderItem
from shopkeep.promotions.pricing import Quote


@dataclass(frozen=True)
class Upgrade:
    product_id: int  # the higher tier being bought
    from_item_id: int  # the order item that holds the lower tier
    from_name: str  # the lower tier's product name, for the buyer
    credit: Decimal
    holder: PlayerIdentity  # who holds the lower tier: the upgrade must go to them


def same_player(a: PlayerIdentity, b: PlayerIdentity) -> bool:
    if a.uuid and b.uuid:
        return a.uuid.lower() == b.uuid.lower()
    if a.steam_id and b.steam_id:
        return a.steam_id == b.steam_id
    return a.player_name.lower() == b.player_name.lower()


def apply_upgrades(*, quote: Quote, upgrades: dict[int, Upgrade],
                   identity: PlayerIdentity | None = None) -> list[Upgrade]:
    """Take each upgrade's credit off its line (after sales, before the coupon); returns the
    upgrades applied. ``identity``: the player the order delivers to, when known."""
    applied = []
    for line in quote.lines:
        upgrade = upgrades.get(line.product.pk)
        if upgrade is None:
            continue
        if line.quantity != 1:
            raise ServiceError("upgrade_quantity", f"An upgrade to {line.product.name} is "
                               "bought one at a time.", field="items")
        if upgrade.credit >= line.unit_price:
            continue  # nothing left to pay for: no upgrade price (docs/promotions.md)
        if identity is not None and not same_player(identity, upgrade.holder):
            raise ServiceError("upgrade_player", f"The upgrade price is for "
                               f"{upgrade.holder.player_name}, who holds {upgrade.from_name}: "
                               "an upgrade goes to the player who holds the lower tier.",
                               field="player_name")
        line.unit_price = line.unit_price - upgrade.credit
        line.upgrade_credit = upgrade.credit
        line.upgrade_from_name = upgrade.from_name
        applied.append(upgrade)
    quote.subtotal = quantize(sum((line.total for line in quote.lines), Decimal("0")),
                              quote.currency)
    quote.total = quote.subtotal
    return applied


def claim_upgrades(*, order: Order, applied: list[Upgrade]) -> None:
    """Inside the order's transaction, after its items exist: each lower tier is claimed by
    this order, or the whole order is refused."""
    for upgrade in applied:
        claimed = OrderItem.objects.filter(pk=upgrade.from_item_id, store_id=order.store_id,
                                           upgraded_by="").update(upgraded_by=order.order_number)
        if claimed != 1:
            raise Conflict("upgrade_taken", f"Your {upgrade.from_name} was just upgraded in "
                           "another order; reload the page to see the current price.",
                           field="items")
        OrderItem.objects.filter(order=order, product_id=upgrade.product_id).update(
            upgrade_from_id=upgrade.from_item_id, upgrade_credit=upgrade.credit)


def release_upgrades(*, order: Order) -> int:
    """An unpaid order given up: its lower tiers can be upgraded again."""
    return OrderItem.objects.filter(store_id=order.store_id,
                                    upgraded_by=order.order_number).update(upgraded_by="")
