"""Readable audit rows and store-local times for dashboard templates."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django import template
from django.utils import timezone

register = template.Library()

# Past-tense verbs for the second half of an action name ("product.updated" -> "updated").
_VERB_FIXES = {"delivery_actions_set": "changed the commands of",
               "identity_from_paid_order": "took the game identity from a paid order of",
               "secret_rotated": "rotated the secret of", "agent_released": "released the agent of",
               "store_secret_created": "created the store secret for",
               "role_changed": "changed the role of", "settings_updated": "changed the settings of",
               "plan_changed": "changed the plan of", "stripe_connected": "connected Stripe to",
               "stripe_disconnected": "disconnected Stripe from",
               "paypal_connected": "connected PayPal to",
               "paypal_disconnected": "disconnected PayPal from",
               "marked_delivered": "marked as delivered", "run_again": "ran again",
               "check_requested": "asked for a check of"}
_MAX_VALUE = 80


def _words(name: str) -> str:
    return name.replace("_", " ").replace(".", " ")


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if value in (None, "", [], {}):
        return "empty"
    if isinstance(value, (list, tuple)):
        text = ", ".join(_value(v) for v in value)
    elif isinstance(value, dict):
        text = ", ".join(f"{_words(str(k))} {_value(v)}" for k, v in value.items())
    else:
        text = str(value)
    return f"“{text[:_MAX_VALUE]}{'…' if len(text) > _MAX_VALUE else ''}”"


def _change(key: str, value: object) -> str:
    # {"field": {"old": a, "new": b}} and {"field": [a, b]} are both "from a to b".
    if isinstance(value, dict) and set(value) == {"old", "new"}:
        return f"{_words(key)} from {_value(value['old'])} to {_value(value['new'])}"
    if isinstance(value, dict) and set(value) == {"from", "to"}:
        return f"{_words(key)} from {_value(value['from'])} to {_value(value['to'])}"
    return f"{_words(key)} {_value(value)}"


@register.filter
def audit_sentence(row) -> str:
    """``Ann updated product 12: name “VIP” , price “9.99”.`` (text, autoescaped)."""
    thing, _, what = str(row.action).partition(".")
    verb = _VERB_FIXES.get(what, _words(what) or "changed")
    subject = _words(thing)
    target = f"{subject} {row.object_id}".strip() if row.object_id else subject
    sentence = f"{row.actor_label or 'Someone'} {verb} {target}"
    details = row.details if isinstance(row.details, dict) else {}
    parts = [_change(str(k), v) for k, v in list(details.items())[:8]]
    if parts:
        sentence += ": " + "; ".join(parts)
    return sentence + "."


@register.filter
def store_time(value: datetime | None, store) -> str:
    """``2025-01-20 09:30 EST``: the store's time zone, named."""
    if value is None:
        return "—"
    try:
        zone = ZoneInfo(store.time_zone)
    except Exception:  # a zone removed from tzdata since it was chosen
        zone = ZoneInfo("UTC")
    local = timezone.localtime(value, zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"
