"""Dashboard webhook pages: list, create, edit, secret reveal and rotation, test send, delivery
log with filters, attempt detail, resend; support members get 403, outsiders 404."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from shopkeep.events.services import emit
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import AuditLog, Role
from shopkeep.webhooks.models import WebhookDelivery, WebhookEndpoint
from shopkeep.webhooks.services import endpoint_create
from tests.factories import add_member, make_store, owner_of
from tests.webhooks.conftest import dispatch

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_owner(store) -> Client:
    client = Client()
    client.force_login(owner_of(store))
    return client


@pytest.fixture
def endpoint(store, receiver):
    return endpoint_create(store=store, actor=Actor.system(), url=receiver.url(),
                           events=["product.deleted"], description="Bot")


@pytest.fixture
def delivery(store, endpoint):
    with transaction.atomic():
        emit(store=store, event_type="product.deleted",
             data={"product_id": 1, "name": "x", "slug": "x",
                   "deleted_at": "2025-01-22T09:00:00.000000Z"})
    dispatch()
    return WebhookDelivery.objects.get()


def _url(name, store, *args):
    return reverse(f"dashboard:{name}", args=[store.slug, *args])


def _state() -> tuple:
    return (sorted(WebhookEndpoint.objects.values_list("pk", "url", "events", "is_active",
                                                       "secret", "description")),
            sorted(WebhookDelivery.objects.values_list("pk", "status", "next_attempt_at")),
            AuditLog.objects.filter(action__startswith="webhook.").count())


def test_the_nav_links_to_webhooks_and_the_list_shows_endpoints(as_owner, store, endpoint):
    page = as_owner.get(_url("overview", store))
    assert _url("webhooks", store).encode() in page.content
    listing = as_owner.get(_url("webhooks", store))
    assert listing.status_code == 200 and endpoint.url.encode() in listing.content


def test_an_endpoint_is_created_from_the_form(as_owner, store, receiver):
    response = as_owner.post(_url("webhook_create", store), {
        "url": receiver.url(), "description": "Discord", "format": "discord",
        "events": ["order.received", "order.completed"], "is_active": "on"})
    endpoint = WebhookEndpoint.objects.get(store=store)
    assert response["Location"] == _url("webhook_detail", store, endpoint.pk)
    assert (endpoint.format, endpoint.events) == ("discord", ["order.received",
                                                             "order.completed"])


def test_an_internal_url_shows_a_form_error_and_creates_nothing(as_owner, store, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    response = as_owner.post(_url("webhook_create", store), {
        "url": "https://169.254.169.254/latest", "format": "json", "all_events": "on"})
    assert response.status_code == 200
    assert "link-local address" in response.context["form"].errors["url"][0]
    assert not WebhookEndpoint.objects.exists()


def test_editing_disables_and_re_enables(as_owner, store, endpoint):
    form = {"url": endpoint.url, "description": "Bot", "format": "json",
            "events": ["product.deleted"]}
    as_owner.post(_url("webhook_detail", store, endpoint.pk), form)
    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.disabled_reason) == (False, "manual")
    as_owner.post(_url("webhook_detail", store, endpoint.pk), {**form, "is_active": "on"})
    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.disabled_reason) == (True, "")


def test_the_secret_shows_only_on_a_post_and_rotation_keeps_the_old_one_for_a_day(
        as_owner, store, endpoint):
    detail = as_owner.get(_url("webhook_detail", store, endpoint.pk))
    assert endpoint.secret.encode() not in detail.content
    assert as_owner.get(_url("webhook_secret", store, endpoint.pk)).status_code == 405
    shown = as_owner.post(_url("webhook_secret", store, endpoint.pk))
    assert endpoint.secret.encode() in shown.content
    assert "no-cache" in shown["Cache-Control"]
    old = endpoint.secret
    as_owner.post(_url("webhook_rotate", store, endpoint.pk))
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.previous_secret == old


def test_a_test_send_is_queued_and_then_logged(as_owner, store, endpoint, receiver):
    as_owner.post(_url("webhook_test", store, endpoint.pk), {"event_type": "ticket.reply"})
    assert receiver.requests == []
    delivery = WebhookDelivery.objects.get()
    assert (delivery.is_test, delivery.event_type, delivery.status) == (True, "ticket.reply",
                                                                        "pending")
    dispatch()
    log = as_owner.get(_url("webhook_deliveries", store, endpoint.pk))
    assert delivery.public_id.encode() in log.content


def test_the_log_filters_and_the_detail_shows_each_attempt(as_owner, store, endpoint,
                                                           delivery):
    log_url = _url("webhook_deliveries", store, endpoint.pk)
    assert delivery.public_id.encode() in as_owner.get(log_url, {"status": "succeeded"}).content
    assert delivery.public_id.encode() not in as_owner.get(log_url,
                                                           {"status": "failed"}).content
    assert delivery.public_id.encode() not in as_owner.get(
        log_url, {"event_type": "order.received"}).content
    assert delivery.public_id.encode() not in as_owner.get(
        log_url, {"since": "2999-01-01T00:00"}).content
    bad = as_owner.get(log_url, {"status": "bogus"})
    assert bad.status_code == 200 and bad.context["invalid_filters"]
    detail = as_owner.get(_url("webhook_delivery", store, endpoint.pk, delivery.public_id))
    assert b"X-Webhook-Signature" in detail.content and b"200" in detail.content
    assert list(detail.context["attempts"]) == list(delivery.attempts.all())


def test_resend_and_redeliver_failed_since(as_owner, store, endpoint, delivery, receiver):
    as_owner.post(_url("webhook_resend", store, endpoint.pk, delivery.public_id))
    delivery.refresh_from_db()
    assert delivery.status == "pending"
    dispatch()
    assert [r.header("X-Webhook-ID") for r in receiver.requests] == [delivery.public_id] * 2
    WebhookDelivery.objects.update(status="failed")
    as_owner.post(_url("webhook_redeliver_failed", store, endpoint.pk),
                  {"since": "2000-01-01T00:00"})
    assert WebhookDelivery.objects.get().status == "pending"


def test_delete_removes_the_endpoint(as_owner, store, endpoint):
    response = as_owner.post(_url("webhook_delete", store, endpoint.pk))
    assert response["Location"] == _url("webhooks", store)
    assert not WebhookEndpoint.objects.exists()


PAGES = [("get", "webhooks", None), ("post", "webhook_create", None),
         ("get", "webhook_detail", False), ("post", "webhook_detail", False),
         ("post", "webhook_delete", False), ("post", "webhook_secret", False),
         ("post", "webhook_rotate", False), ("post", "webhook_test", False),
         ("post", "webhook_redeliver_failed", False), ("get", "webhook_deliveries", False),
         ("get", "webhook_delivery", True), ("post", "webhook_resend", True)]


@pytest.mark.parametrize(("method", "name", "with_delivery"), PAGES)
def test_an_outsider_gets_404_and_changes_nothing(store, endpoint, delivery, method, name,
                                                  with_delivery):
    outsider = Client()
    other = make_store()
    outsider.force_login(owner_of(other))
    before = _state()
    args = ([] if with_delivery is None else
            [endpoint.pk, delivery.public_id] if with_delivery else [endpoint.pk])
    # This store's pages, and (for object pages) this store's ids under the outsider's own
    # store: both 404.
    for slug_store in (store, other) if args else (store,):
        response = getattr(outsider, method)(_url(name, slug_store, *args),
                                             {"event_type": "order.received",
                                              "since": "2000-01-01T00:00",
                                              "url": "https://93.184.215.14/x",
                                              "format": "json", "all_events": "on"})
        assert response.status_code == 404
    assert _state() == before


def test_support_members_cannot_open_webhooks(store, endpoint):
    support = Client()
    support.force_login(add_member(store, Role.SUPPORT).user)
    before = _state()
    assert support.get(_url("webhooks", store)).status_code == 403
    assert support.post(_url("webhook_secret", store, endpoint.pk)).status_code == 403
    assert support.post(_url("webhook_rotate", store, endpoint.pk)).status_code == 403
    assert _state() == before
