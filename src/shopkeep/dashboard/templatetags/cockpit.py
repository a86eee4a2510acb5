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


def _ago(delta_seconds: float) -> str:
    """"3 minutes ago" / "in 2 days": the largest whole unit, in words."""
    future = delta_seconds < 0
    seconds = abs(int(delta_seconds))
    if seconds < 45:
        return "just now" if not future else "in a few seconds"
    for size, unit in ((86400 * 365, "year"), (86400 * 30, "month"), (86400 * 7, "week"),
                       (86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            count = max(1, round(seconds / size)) if size <= 60 else seconds // size
            words = f"{count} {unit}{'' if count == 1 else 's'}"
            return f"in {words}" if future else f"{words} ago"
    return "in 1 minute" if future else "1 minute ago"  # pragma: no cover - 45..59 s


@register.filter
def when(value: datetime | None, store) -> str:
    """``<time title="2025-01-20 09:30:12 EST">3 minutes ago</time>``: human words, with the
    exact store-local time (zone named) on hover and for screen readers' title."""
    from django.utils.html import format_html

    if value is None:
        return "—"
    exact = store_time_seconds(value, store)
    words = _ago((timezone.now() - value).total_seconds())
    return format_html('<time datetime="{}" title="{}">{}</time>',
                       value.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ"),
                       exact, words)


def _zone(store) -> ZoneInfo:
    try:
        return ZoneInfo(store.time_zone)
    except Exception:  # a zone removed from tzdata since it was chosen
        return ZoneInfo("UTC")


@register.filter
def store_time_seconds(value: datetime | None, store) -> str:
    """``2025-01-20 09:30:12 EST``."""
    if value is None:
        return "—"
    local = timezone.localtime(value, _zone(store))
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()}"


@register.filter
def store_date(value, store) -> str:
    """A date (or a datetime's local date) as ``2025-01-20``."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = timezone.localtime(value, _zone(store)).date()
    return f"{value:%Y-%m-%d}"


@register.filter
def duration(seconds) -> str:
    """``2 minutes 5 seconds``, ``3 hours``, ``2 days 4 hours``: two units at most."""
    if seconds is None:
        return "—"
    seconds = int(abs(float(seconds)))
    if seconds < 60:
        return f"{seconds} second{'' if seconds == 1 else 's'}"
    parts = []
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute"), (1, "second")):
        if seconds >= size:
            count, seconds = divmod(seconds, size)
            parts.append(f"{count} {unit}{'' if count == 1 else 's'}")
        if len(parts) == 2:
            break
        if parts and size == 1:
            break
    return " ".join(parts[:2])


@register.filter
def first_line(value) -> str:
    for line in str(value or "").splitlines():
        if line.strip():
            return line.strip()
    return ""


@register.filter
def money(amount, currency: str) -> str:
    """``1,234.50 EUR``: the currency's decimals, thousands grouped, the code named."""
    from decimal import Decimal

    from shopkeep.core.money import money_str

    text = money_str(Decimal(str(amount or 0)), currency)
    whole, _, cents = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    grouped = f"{int(whole.lstrip('-') or 0):,}"
    return f"{sign}{grouped}{'.' + cents if cents else ''} {currency}"


@register.filter
def get_item(mapping, key):
    return (mapping or {}).get(key, 0)


@register.filter
def percent(value) -> str:
    """``12.5 %``; ``—`` when there is nothing to divide by."""
    if value is None:
        return "—"
    return f"{value * 100:.1f} %"


@register.filter
def event_label(event_type: str) -> str:
    """``order.created`` -> ``Order created``; the code stays visible in a title."""
    from django.utils.html import format_html

    words = str(event_type or "").replace(".", " ").replace("_", " ").strip()
    return format_html('<span title="{}">{}</span>', event_type, words[:1].upper() + words[1:])
