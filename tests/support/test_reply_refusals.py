"""A refused attachment on a reply answers 4xx to JSON and htmx callers (a browser still gets
the redirect with the message), and nothing is written."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from shopkeep.support.models import Attachment, Message
from tests.images import png_bomb
from tests.support.conftest import client_for, new_customer_ticket, new_platform_ticket

pytestmark = pytest.mark.django_db

DISGUISED = b"<!doctype html><script>alert(1)</script>"


def _routes(store, owner, staff):
    customer = new_customer_ticket(store)
    platform = new_platform_ticket(store, owner)
    return [
        (client_for(owner), f"/dashboard/{store.slug}/support/{customer.pk}/reply/", {}),
        (client_for(owner), f"/dashboard/{store.slug}/platform-support/{platform.pk}/reply/", {}),
        (client_for(staff), f"/staff/support/tickets/{platform.pk}/reply/", {}),
        (Client(), f"/s/{store.slug}/support/t/{customer.access_key}/", {"action": "reply"}),
    ]


def _post(client, path, extra, data: bytes, **headers):
    return client.post(path, {"message": "See the screenshot", **extra,
                              "attachments": [SimpleUploadedFile("shot.png", data)]},
                       headers=headers)


@pytest.mark.parametrize(("data", "code"), [(DISGUISED, "attachment_type"),
                                            (png_bomb(), "attachment_image")])
def test_json_callers_get_the_refusal_as_a_json_4xx(store, owner, staff, data, code):
    for client, path, extra in _routes(store, owner, staff):
        before = Message.objects.count()
        response = _post(client, path, extra, data, Accept="application/json")
        assert response.status_code == 400, path
        assert response.json()["error"]["code"] == code, path
        assert response.json()["error"]["field"] == "attachments"
        assert Message.objects.count() == before
    assert not Attachment.objects.exists()


def test_htmx_callers_get_the_refusal_as_a_4xx_fragment(store, owner, staff):
    for client, path, extra in _routes(store, owner, staff):
        response = _post(client, path, extra, DISGUISED, **{"HX-Request": "true"})
        assert response.status_code == 400, path
        body = response.content.decode()
        assert body.startswith('<p class="form-error" role="alert">'), path
        assert "attach images" in body
    assert not Attachment.objects.exists()


def test_a_browser_still_gets_the_redirect_with_the_message(store, owner, staff):
    for client, path, extra in _routes(store, owner, staff):
        response = _post(client, path, extra, DISGUISED)
        assert response.status_code == 302, path
        page = client.get(response["Location"])
        assert "attach images" in page.content.decode(), path
    assert not Attachment.objects.exists()


def test_an_oversized_upload_is_413_json_for_json_callers(store, owner, staff):
    client, path, _extra = _routes(store, owner, staff)[0]
    response = client.post(path, {"message": "x"}, headers={"Accept": "application/json"},
                           CONTENT_LENGTH=str(60 * 1024 * 1024))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"
