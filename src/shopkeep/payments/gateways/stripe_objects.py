"""Reading Stripe's JSON: shared by the gateway and its event translation (no imports of
either, so neither depends on the other for these)."""

from __future__ import annotations

from typing import Any

# Stripe's subscription statuses, as Shopkeep's.
STATES = {"active": "active", "trialing": "active", "past_due": "past_due",
          "unpaid": "past_due", "incomplete": "past_due", "paused": "past_due",
          "canceled": "canceled", "incomplete_expired": "canceled"}


def dig(obj: Any, *path: str, default: Any = None) -> Any:
    """Walk nested Stripe JSON (dicts from webhooks, StripeObjects from the API)."""
    for key in path:
        if obj is None:
            return default
        try:
            obj = obj[key]
        except (KeyError, IndexError, TypeError):
            return default
    return default if obj is None else obj


def id_of(value: Any) -> str:
    """An expandable field: an id string, or an object with an id."""
    if isinstance(value, str):
        return value
    return dig(value, "id", default="")
