"""Who may send an outbox row, and how narrow the duplicate window is (issue 12: the e-mail
job survives a SIGKILL; ``tests/e2e/test_mail_crash.py`` kills real workers)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.utils import timezone

from shopkeep.notifications.models import EmailOutbox
from shopkeep.notifications.services import email_send, outbox_requeue_stale, outbox_scan
from tests.commerce import make_product, make_shop, paid_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def row(django_capture_on_commit_callbacks):
    store = make_shop(name="Claims")
    paid_order(store, make_product(store), capture=django_capture_on_commit_callbacks)
    outbox_scan()
    mail.outbox.clear()
    return EmailOutbox.objects.get(kind="receipt")


def _held_by(row: EmailOutbox, claim: str) -> None:
    """As a worker killed mid-send leaves it: sending, its lease minutes away."""
    EmailOutbox.objects.filter(pk=row.pk).update(
        status="sending", claimed_by=claim, attempts=1,
        leased_until=timezone.now() + timedelta(minutes=4))


def test_the_same_task_back_after_its_worker_died_sends_at_once(row):
    _held_by(row, "task:abc")
    assert email_send(outbox_id=row.pk, claim="task:abc") == "sent"
    row.refresh_from_db()
    assert (row.status, row.attempts, row.claimed_by) == ("sent", 2, "task:abc")
    assert len(mail.outbox) == 1


def test_another_task_leaves_a_held_row_alone_until_its_lease_ends(row):
    _held_by(row, "task:abc")
    assert email_send(outbox_id=row.pk, claim="task:other") == "not mine"
    assert email_send(outbox_id=row.pk) == "not mine"
    assert mail.outbox == []
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sending", 1)
    # The lease over, anyone may: the scan re-queues it and the next sender takes it.
    EmailOutbox.objects.filter(pk=row.pk).update(leased_until=timezone.now() - timedelta(1))
    assert outbox_requeue_stale() == 1
    assert email_send(outbox_id=row.pk, claim="task:other") == "sent"
    assert len(mail.outbox) == 1


def test_a_sent_row_is_never_sent_again_even_by_its_own_task(row):
    assert email_send(outbox_id=row.pk, claim="task:abc") == "sent"
    assert email_send(outbox_id=row.pk, claim="task:abc") == "not mine"
    assert len(mail.outbox) == 1


def test_every_attempt_carries_the_same_message_id(row, monkeypatch):
    def refuse(self, messages):
        refuse.ids.append(messages[0].extra_headers["Message-ID"])
        raise ConnectionRefusedError("smtp down")

    refuse.ids = []
    monkeypatch.setattr(EmailBackend, "send_messages", refuse)
    assert email_send(outbox_id=row.pk) == "failed"
    monkeypatch.undo()
    assert email_send(outbox_id=row.pk) == "sent"
    sent_id = mail.outbox[0].extra_headers["Message-ID"]
    assert refuse.ids == [sent_id]
    assert sent_id.startswith(f"<outbox-{row.pk}.") and sent_id.endswith(">")


def test_the_row_is_marked_sent_before_the_connection_closes(row, monkeypatch):
    seen = []

    def close(self):
        seen.append(EmailOutbox.objects.get(pk=row.pk).status)

    monkeypatch.setattr(EmailBackend, "close", close, raising=False)
    assert email_send(outbox_id=row.pk) == "sent"
    assert seen == ["sent"]


def test_a_server_hanging_up_at_quit_changes_nothing(row, monkeypatch):
    def close(self):
        raise ConnectionResetError("gone")

    monkeypatch.setattr(EmailBackend, "close", close, raising=False)
    assert email_send(outbox_id=row.pk) == "sent"
    row.refresh_from_db()
    assert (row.status, row.error) == ("sent", "")
    assert len(mail.outbox) == 1
