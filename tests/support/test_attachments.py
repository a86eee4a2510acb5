"""Hostile attachments: the type comes from the bytes, names are sanitised, sizes and counts
are capped, and files are served only to those who may see them, never as a page."""

from __future__ import annotations

import os
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from shopkeep.core.errors import ServiceError
from shopkeep.stores.audit import Actor
from shopkeep.support.attachments import MAX_ATTACHMENT_BYTES, sanitise_filename, signed_url
from shopkeep.support.models import Attachment, Message, Ticket
from shopkeep.support.services import Side, ticket_reply
from tests.images import jpeg_bomb, png_bomb
from tests.support.conftest import PNG, client_for, new_platform_ticket, png

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def upload(name: str, data: bytes, content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def _stored_files(settings) -> list[str]:
    root = settings.STORAGES["default"]["OPTIONS"]["location"]
    found = []
    for folder, _, files in os.walk(root):
        found += [os.path.join(folder, f) for f in files]
    return found


@pytest.mark.parametrize(("name", "data"), [
    ("cute.png", b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>"),
    ("cute.png", b"  \n<html><body onload=alert(1)>"),
    ("logo.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
    ("notes.txt", b"<script>alert(1)</script>"),
    ("notes.txt", b"hello <iframe src=//evil.example></iframe>"),
    ("tool.png", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64),
    ("report.pdf", PNG),  # a PNG pretending to be a PDF
    ("photo.jpg", b"just some text pretending to be a photo"),
    ("archive.txt", b"PK\x03\x04" + b"\x00" * 40),
])
def test_hostile_files_are_refused_and_nothing_is_saved(store, owner, settings, name, data):
    with pytest.raises(ServiceError) as refused:
        new_platform_ticket(store, owner, files=[upload(name, data)])
    assert refused.value.code == "attachment_type"
    assert not Ticket.objects.exists() and not Attachment.objects.exists()
    assert _stored_files(settings) == []


@pytest.mark.parametrize("data", [png_bomb(), jpeg_bomb()])
def test_a_decompression_bomb_attachment_is_refused_and_nothing_is_saved(store, owner, settings,
                                                                       data):
    with pytest.raises(ServiceError) as refused:
        new_platform_ticket(store, owner, files=[upload("screenshot.png", data)])
    assert refused.value.code == "attachment_image"
    assert "refused" in refused.value.message
    assert not Ticket.objects.exists() and not Attachment.objects.exists()
    assert _stored_files(settings) == []


def test_an_oversized_file_is_refused(store, owner, settings):
    big = upload("huge.log", b"a" * (MAX_ATTACHMENT_BYTES + 1), "text/plain")
    with pytest.raises(ServiceError) as refused:
        new_platform_ticket(store, owner, files=[big])
    assert refused.value.code == "attachment_too_large" and refused.value.status == 413
    assert not Ticket.objects.exists() and _stored_files(settings) == []


def test_a_file_of_exactly_ten_megabytes_is_accepted(store, owner):
    exact = upload("big.log", b"a" * MAX_ATTACHMENT_BYTES, "text/plain")
    ticket = new_platform_ticket(store, owner, files=[exact])
    assert ticket.attachments.get().size == MAX_ATTACHMENT_BYTES


def test_at_most_five_files_per_message(store, owner):
    with pytest.raises(ServiceError) as refused:
        new_platform_ticket(store, owner, files=[png(f"s{i}.png") for i in range(6)])
    assert refused.value.code == "too_many_attachments" and not Ticket.objects.exists()
    ticket = new_platform_ticket(store, owner, files=[png(f"s{i}.png") for i in range(5)])
    assert ticket.attachments.count() == 5


@pytest.mark.parametrize(("raw", "kind", "expected"), [
    ("../../../etc/passwd.txt", "txt", "passwd.txt"),
    ("..\\..\\windows\\system32\\boot.log", "txt", "boot.log"),
    ("/var/www/.htaccess", "txt", "htaccess.txt"),
    ("screen shot (1).png", "png", "screen shot (1).png"),
    ("résumé<script>.pdf", "pdf", "resume_script.pdf"),
    ("evil.php", "png", "evil.png"),
    ("", "pdf", "attachment.pdf"),
    ("a" * 300 + ".log", "txt", "a" * 90 + ".log"),
])
def test_file_names_are_sanitised(raw, kind, expected):
    assert sanitise_filename(raw, kind) == expected


def test_traversal_names_never_reach_the_file_system(store, owner, settings):
    ticket = new_platform_ticket(store, owner, files=[
        upload("../../../../tmp/owned.txt", b"server log line\n", "text/plain"),
        upload("invoice.pdf", PDF, "application/pdf")])
    log, pdf = ticket.attachments.order_by("id")
    assert log.filename == "owned.txt" and log.content_type == "text/plain; charset=utf-8"
    assert pdf.filename == "invoice.pdf" and pdf.content_type == "application/pdf"
    for attachment in (log, pdf):
        assert attachment.file.name.startswith("private/support/")
        assert "owned" not in attachment.file.name and ".." not in attachment.file.name
    root = settings.STORAGES["default"]["OPTIONS"]["location"]
    assert all(path.startswith(root) for path in _stored_files(settings))


def _path(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def _dashboard_url(ticket, attachment) -> str:
    return reverse("dashboard:platform_attachment",
                   args=[ticket.store.slug, ticket.pk, attachment.pk])


def test_files_are_served_with_headers_that_stop_rendering(store, owner):
    ticket = new_platform_ticket(store, owner, files=[
        upload("server.log", b"ERROR 404 at /hook\n", "text/html"), png()])
    log, image = ticket.attachments.order_by("id")
    client = client_for(owner)
    response = client.get(_dashboard_url(ticket, log))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"  # not the claimed text/html
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == b"ERROR 404 at /hook\n"
    response = client.get(_dashboard_url(ticket, image))
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline;")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_internal_note_attachments_are_for_staff_only(store, owner, staff):
    ticket = new_platform_ticket(store, owner)
    note = ticket_reply(ticket=ticket, actor=Actor.for_user(staff), side=Side.SUPPORT,
                        body="stack trace attached", internal=True, files=[png("trace.png")])
    attachment = note.attachments.get()
    assert client_for(owner).get(_dashboard_url(ticket, attachment)).status_code == 404
    staff_url = reverse("staff:ticket_attachment", args=[ticket.pk, attachment.pk])
    assert client_for(staff).get(staff_url).status_code == 200
    # Nor can a signed link expose it (events only ever sign public attachments).
    assert Client().get(_path(signed_url(attachment))).status_code == 404


def test_another_stores_owner_gets_404_for_the_file(store, owner, outsider):
    ticket = new_platform_ticket(store, owner, files=[png()])
    attachment = ticket.attachments.get()
    assert client_for(outsider).get(_dashboard_url(ticket, attachment)).status_code == 404
    # Even with their own store in the URL: the ticket is looked up inside their store.
    url = reverse("dashboard:platform_attachment", args=["elsewhere", ticket.pk, attachment.pk])
    assert client_for(outsider).get(url).status_code == 404


def test_signed_urls_work_without_a_session_until_they_expire(store, owner, monkeypatch):
    ticket = new_platform_ticket(store, owner, files=[png()])
    url = _path(signed_url(ticket.attachments.get()))
    assert Client().get(url).status_code == 200
    assert Client().get(url.replace("/support/attachments/", "/support/attachments/x")
                        ).status_code == 404
    later = time.time() + 8 * 24 * 3600
    monkeypatch.setattr(time, "time", lambda: later)
    assert Client().get(url).status_code == 404


def test_an_oversized_request_is_refused_before_it_is_read(store, owner):
    ticket = new_platform_ticket(store, owner)
    url = reverse("dashboard:platform_reply", args=[store.slug, ticket.pk])
    response = client_for(owner).post(url, {"message": "hi"},
                                      CONTENT_LENGTH=str(60 * 1024 * 1024))
    assert response.status_code == 413
    assert Message.objects.count() == 1
