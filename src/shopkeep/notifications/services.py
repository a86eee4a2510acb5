"""Scan events into the e-mail outbox, and send outbox rows. Both run in the worker.

- ``outbox_scan`` reads events past its cursor (the cursor row locked, so two scanners take
  turns), writes one outbox row per mail with a unique ``dedup_key`` and enqueues its send,
  all in one transaction with the cursor's advance: an event is turned into mail exactly once.
- ``email_send`` claims a row by a conditional UPDATE (pending, or a sending row whose lease
  ran out) and checks the row count, so two workers never send one mail; a worker killed
  between the SMTP hand-off and marking the row sent may send it again (at least once).
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from shopkeep.core.absolute import absolute_url
from shopkeep.core.failpoints import failpoint
from shopkeep.events.models import Event
from shopkeep.notifications.kinds import EVENT_TYPES, KINDS, EmailKind, subject_for
from shopkeep.notifications.models import (
    EmailOutbox,
    MemberEmailPreference,
    ScanCursor,
    StoreEmailSettings,
)
from shopkeep.stores.models import Membership, Role, Store
from shopkeep.themes.look import resolve
from shopkeep.themes.models import StorefrontSettings

logger = logging.getLogger("shopkeep.notifications")
BATCH = 200
LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 5


def email_settings(store: Store) -> StoreEmailSettings:
    found = StoreEmailSettings.objects.filter(store=store).first()
    return found or StoreEmailSettings(store=store)


def owner_recipients(store: Store, flag: str) -> list[str]:
    """Owners get owner notices until they turn them off; other members once they opt in."""
    emails = []
    for member in Membership.objects.filter(store=store).select_related("user"):
        pref = MemberEmailPreference.objects.filter(membership=member).first()
        wanted = getattr(pref, flag) if pref is not None else member.role == Role.OWNER
        if wanted and member.user.email:
            emails.append(member.user.email)
    return sorted(set(emails))


def _mails_for(kind: EmailKind, event: Event) -> list[tuple[str, dict]]:
    store = event.store
    context = kind.build(store, event.data)
    if context is None:
        return []
    if kind.for_buyer:
        if not email_settings(store).buyer_receipts or not context.get("customer_email"):
            return []
        return [(context["customer_email"], context)]
    return [(email, context) for email in owner_recipients(store, kind.audience)]


def outbox_scan(*, limit: int = BATCH) -> int:
    """Turn new events into outbox rows; returns how many mails were queued."""
    from shopkeep.notifications.tasks import email_send_task

    queued = 0
    with transaction.atomic():
        cursor, _ = ScanCursor.objects.get_or_create(name="events")
        cursor = ScanCursor.objects.select_for_update().get(pk=cursor.pk)
        events = list(Event.objects.filter(pk__gt=cursor.last_event_id)
                      .select_related("store").order_by("id")[:limit])
        for event in events:
            if event.event_type not in EVENT_TYPES:
                continue
            for kind in KINDS.values():
                if kind.event_type != event.event_type:
                    continue
                for recipient, context in _mails_for(kind, event):
                    row = _queue(event.store, kind, recipient, context,
                                 f"event:{event.pk}:{kind.name}:{recipient}", event.pk)
                    if row is not None:
                        email_send_task.enqueue(row.pk)
                        queued += 1
        if events:
            cursor.last_event_id = events[-1].pk
            cursor.save(update_fields=["last_event_id"])
    return queued


def _queue(store: Store, kind: EmailKind, recipient: str, context: dict, key: str,
           event_id: int | None) -> EmailOutbox | None:
    try:
        with transaction.atomic():
            return EmailOutbox.objects.create(
                store=store, kind=kind.name, recipient=recipient[:254], dedup_key=key[:200],
                event_id=event_id, context=context, subject=subject_for(kind, context))
    except IntegrityError:
        return None  # already queued by an earlier scan


def outbox_requeue_stale(*, now=None) -> int:
    """Pending rows whose send never ran (a lost task) or whose sender died: enqueue again."""
    from shopkeep.notifications.tasks import email_send_task

    now = now or timezone.now()
    stale = EmailOutbox.objects.filter(
        Q(status=EmailOutbox.Status.PENDING, created_at__lt=now - LEASE)
        | Q(status=EmailOutbox.Status.SENDING, leased_until__lt=now),
        attempts__lt=MAX_ATTEMPTS).values_list("pk", flat=True)[:BATCH]
    count = 0
    for pk in stale:
        with transaction.atomic():
            email_send_task.enqueue(pk)
        count += 1
    return count


HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


def _ink_on(colour: str) -> str:
    """Black or white, whichever reads better on ``colour`` (WCAG relative luminance)."""
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return "#111827" if luminance > 0.179 else "#ffffff"


def branding(store: Store) -> dict[str, Any]:
    """The store's look in mail, from its published Store Builder settings: name, logo (an
    absolute URL, since mail clients have no page to resolve a path against), the accent
    colour for the header and links and the page background. The mail's card stays white
    with dark text whatever the theme, so a dark theme's light text colour is not used."""
    row = StorefrontSettings.objects.filter(store=store).only("published").first()
    look = resolve(row.published if row is not None else None)
    accent = look.options.get("accent")
    primary = accent if isinstance(accent, str) and HEX.match(accent) else "#2f6fed"
    background = look.options.get("background")
    logo = look.images.get("logo")
    return {"name": store.name,
            "logo_url": absolute_url(reverse("store_image", args=[logo])) if logo else "",
            "primary": primary, "on_primary": _ink_on(primary), "text": "#1d2330",
            "background": background if isinstance(background, str) and HEX.match(background)
            else "#f5f6f8"}


def email_render(*, store: Store, kind: EmailKind, context: dict) -> tuple[str, str, str]:
    """Subject, plain text and HTML of one mail."""
    full = {**context, "store": branding(store), "kind": kind.name,
            "subject": subject_for(kind, context)}
    text = render_to_string(f"notifications/email/{kind.name}.txt", full)
    html = render_to_string(f"notifications/email/{kind.name}.html", full)
    return full["subject"], text, html


def email_message_id(row: EmailOutbox) -> str:
    """The same Message-ID on every attempt of one outbox row, so a copy sent again after a
    crash is recognisable as the same message (mail clients and many providers fold copies
    with one Message-ID)."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(" >") or "localhost"
    digest = hashlib.sha256(row.dedup_key.encode()).hexdigest()[:16]
    return f"<outbox-{row.pk}.{digest}@{domain}>"


def email_send(*, outbox_id: int, claim: str = "") -> str:
    """Send one outbox row, at least once and at most once more per crash.

    ``claim`` names the task run (``task:<task id>``). A row is claimed when it is pending,
    when its lease ran out, or when the claim is this same task's: the task comes back only
    after the worker that ran it stopped renewing its task lease (killed, or frozen past it),
    so its claim may be taken over at once instead of waiting out the row's 5-minute lease.

    The duplicate window is as narrow as SMTP allows: the connection is opened first, the
    row is marked sent right after the server's reply to the end of DATA, and only then is
    the connection closed (QUIT). A mail is sent twice only when the worker dies, or the
    reply is lost, between that reply and the commit of the ``sent`` mark.
    """
    now = timezone.now()
    claimable = Q(status=EmailOutbox.Status.PENDING) | Q(status=EmailOutbox.Status.SENDING,
                                                         leased_until__lt=now)
    if claim:
        claimable |= Q(status=EmailOutbox.Status.SENDING, claimed_by=claim)
    claimed = EmailOutbox.objects.filter(claimable, pk=outbox_id,
                                         attempts__lt=MAX_ATTEMPTS).update(
        status=EmailOutbox.Status.SENDING, leased_until=now + LEASE, claimed_by=claim[:64],
        attempts=F("attempts") + 1)
    if claimed != 1:
        return "not mine"
    row = EmailOutbox.objects.select_related("store").get(pk=outbox_id)
    kind = KINDS.get(row.kind)
    if kind is None:
        EmailOutbox.objects.filter(pk=row.pk).update(status=EmailOutbox.Status.SKIPPED,
                                                     error="unknown kind")
        return "skipped"
    if kind.still_wanted is not None and not kind.still_wanted(row):
        EmailOutbox.objects.filter(pk=row.pk).update(status=EmailOutbox.Status.SKIPPED,
                                                     error="no longer wanted",
                                                     leased_until=None)
        return "skipped"
    failpoint("email.claimed")
    connection = get_connection()
    try:
        subject, text, html = email_render(store=row.store, kind=kind, context=row.context)
        reply_to = email_settings(row.store).reply_to
        message = EmailMultiAlternatives(
            subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL,
            to=[row.recipient], reply_to=[reply_to] if reply_to else None,
            headers=_headers(row),
            connection=connection)
        message.attach_alternative(html, "text/html")
        connection.open()
        if connection.send_messages([message]) != 1:
            raise RuntimeError("the mail backend sent nothing")
    except Exception as exc:  # SMTP, template: record, retry later until MAX_ATTEMPTS
        _close_quietly(connection)
        failed = row.attempts >= MAX_ATTEMPTS
        EmailOutbox.objects.filter(pk=row.pk).update(
            status=EmailOutbox.Status.FAILED if failed else EmailOutbox.Status.PENDING,
            error=f"{type(exc).__name__}: {exc}"[:500], leased_until=None, claimed_by="")
        logger.warning("mail %s (%s) failed: %s", row.pk, row.kind, exc)
        return "failed"
    failpoint("email.accepted")  # the server has it; a crash here is the one duplicate
    EmailOutbox.objects.filter(pk=row.pk).exclude(status=EmailOutbox.Status.SENT).update(
        status=EmailOutbox.Status.SENT, sent_at=timezone.now(), leased_until=None, error="")
    failpoint("email.marked_sent")
    _close_quietly(connection)
    return "sent"


def _headers(row: EmailOutbox) -> dict[str, str]:
    headers = {"X-Shopkeep-Mail": row.kind, "Message-ID": email_message_id(row)}
    unsubscribe = row.context.get("unsubscribe_url")
    if unsubscribe:
        # RFC 8058 one-click: the mail provider POSTs to the link, no page involved.
        headers["List-Unsubscribe"] = f"<{unsubscribe}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return headers


def _close_quietly(connection) -> None:
    # QUIT after the mark: a server that hangs up rudely changes nothing now.
    try:
        connection.close()
    except Exception:
        logger.info("closing the mail connection failed", exc_info=True)


def member_preference(membership: Membership) -> MemberEmailPreference:
    found = MemberEmailPreference.objects.filter(membership=membership).first()
    if found is not None:
        return found
    is_owner = membership.role == Role.OWNER
    return MemberEmailPreference(membership=membership, new_sale=is_owner,
                                 delivery_failed=is_owner, dispute_opened=is_owner)


@transaction.atomic
def member_preference_set(*, membership: Membership, actor, new_sale: bool,
                          delivery_failed: bool, dispute_opened: bool,
                          daily_summary: bool = False) -> MemberEmailPreference:
    from shopkeep.stores.audit import audit_record

    pref, _ = MemberEmailPreference.objects.update_or_create(
        membership=membership, defaults={"new_sale": bool(new_sale),
                                         "delivery_failed": bool(delivery_failed),
                                         "dispute_opened": bool(dispute_opened),
                                         "daily_summary": bool(daily_summary)})
    audit_record(store=membership.store, actor=actor, action="email.notices_changed",
                 obj=pref, details={"new_sale": pref.new_sale,
                                    "delivery_failed": pref.delivery_failed,
                                    "dispute_opened": pref.dispute_opened,
                                    "daily_summary": pref.daily_summary})
    return pref


@transaction.atomic
def store_email_settings_set(*, store: Store, actor, buyer_receipts: bool,
                             reply_to: str, abandoned_basket: bool | None = None,
                             abandoned_delay_hours: int | None = None) -> StoreEmailSettings:
    from shopkeep.stores.audit import audit_record
    from shopkeep.stores.authz import require_permission
    from shopkeep.stores.permissions import Perm

    require_permission(store, actor, Perm.STORE_SETTINGS)
    defaults: dict[str, Any] = {"buyer_receipts": bool(buyer_receipts),
                                "reply_to": (reply_to or "")[:254]}
    if abandoned_basket is not None:
        defaults["abandoned_basket"] = bool(abandoned_basket)
    if abandoned_delay_hours is not None:
        if not 1 <= abandoned_delay_hours <= 72:
            from shopkeep.core.errors import ServiceError

            raise ServiceError("invalid_delay", "The reminder goes 1 to 72 hours after the "
                               "order was left.", field="abandoned_delay_hours")
        defaults["abandoned_delay_hours"] = abandoned_delay_hours
    row, _ = StoreEmailSettings.objects.update_or_create(store=store, defaults=defaults)
    audit_record(store=store, actor=actor, action="email.settings_changed", obj=row,
                 details={"buyer_receipts": row.buyer_receipts, "reply_to": row.reply_to,
                          "abandoned_basket": row.abandoned_basket,
                          "abandoned_delay_hours": row.abandoned_delay_hours})
    return row


def recent_outbox(*, store: Store, limit: int = 50):
    return EmailOutbox.objects.filter(store=store).order_by("-id")[:limit]
