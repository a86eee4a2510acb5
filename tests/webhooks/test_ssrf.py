"""Webhook URLs may not reach inside the network: refused when saved, and again at send time
after DNS resolution, unless SHOPKEEP_WEBHOOK_ALLOW_PRIVATE is on."""

from __future__ import annotations

import ipaddress

import pytest
from django.db import transaction

from shopkeep.core.errors import ServiceError
from shopkeep.core.http import UnsafeURL, address_class, check_url
from shopkeep.events.services import emit
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import AuditLog
from shopkeep.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from shopkeep.webhooks.services import endpoint_create
from tests.webhooks.conftest import dispatch

pytestmark = pytest.mark.django_db

REFUSED = [
    ("127.0.0.1", "loopback"), ("127.255.0.9", "loopback"), ("::1", "loopback"),
    ("10.1.2.3", "private"), ("172.16.0.1", "private"), ("172.31.255.254", "private"),
    ("192.168.1.1", "private"), ("fd12:3456::1", "private"), ("fc00::1", "private"),
    ("169.254.169.254", "link-local"), ("fe80::1", "link-local"),
    ("100.64.0.1", "CGNAT"), ("100.127.255.254", "CGNAT"),
    ("224.0.0.1", "multicast"), ("239.255.255.250", "multicast"), ("ff02::1", "multicast"),
    ("240.0.0.1", "reserved"), ("255.255.255.255", "reserved"), ("192.0.2.10", "private"),
    ("0.0.0.0", "unspecified"), ("::", "unspecified"),
    # IPv6 spellings of refused IPv4 addresses are judged by the IPv4 address.
    ("::ffff:127.0.0.1", "loopback"), ("::ffff:10.0.0.1", "private"),
    ("2002:a9fe:a9fe::1", "link-local"), ("64:ff9b::a00:1", "private"),
]


@pytest.mark.parametrize(("address", "kind"), REFUSED)
def test_each_internal_address_class_is_refused(address, kind):
    assert address_class(ipaddress.ip_address(address)) == kind
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(UnsafeURL, match="address"):
        check_url(f"https://{host}/hook", allow_private=False, require_https=True)


@pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111",
                                     "::ffff:8.8.8.8"])
def test_public_addresses_are_allowed(address):
    assert address_class(ipaddress.ip_address(address)) is None
    host = f"[{address}]" if ":" in address else address
    assert check_url(f"https://{host}/hook", allow_private=False, require_https=True)


def test_a_hostname_that_resolves_to_loopback_is_refused():
    with pytest.raises(UnsafeURL, match="loopback"):
        check_url("https://localhost:8443/hook", allow_private=False, require_https=True)


@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd", "gopher://x",
                                 "https://", "https://exa mple.com/", "https://a:b:c/",
                                 "https://example.com:99999/", "javascript:alert(1)",
                                 "https://example.com/\r\nX-Evil: 1", "x" * 3000])
def test_malformed_or_non_http_urls_are_refused(url):
    with pytest.raises(UnsafeURL):
        check_url(url, allow_private=True, require_https=False)


def test_plain_http_is_refused_when_https_is_required():
    with pytest.raises(UnsafeURL, match="https"):
        check_url("http://93.184.215.14/hook", allow_private=False, require_https=True)
    assert check_url("http://93.184.215.14/hook", allow_private=False, require_https=False)


def test_the_development_switch_allows_private_addresses():
    assert check_url("http://127.0.0.1:9/hook", allow_private=True, require_https=False)


def test_creating_an_endpoint_for_an_internal_url_changes_nothing(store, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    before = AuditLog.objects.count()
    for url in ("https://127.0.0.1/hook", "https://localhost/hook", "https://[::1]/x",
                "https://169.254.169.254/latest/meta-data", "https://100.64.1.1/"):
        with pytest.raises(ServiceError) as exc:
            endpoint_create(store=store, actor=Actor.system(), url=url,
                            events=["product.deleted"])
        assert exc.value.field == "url"
    assert not WebhookEndpoint.objects.exists()
    assert AuditLog.objects.count() == before


def test_production_refuses_plain_http_unless_allowed(store, settings):
    settings.WEBHOOK_ALLOW_HTTP = False
    with pytest.raises(ServiceError, match="https"):
        endpoint_create(store=store, actor=Actor.system(), url="http://127.0.0.1/hook",
                        events=["product.deleted"])
    assert not WebhookEndpoint.objects.exists()


def test_at_send_time_a_name_now_resolving_to_loopback_is_not_contacted(store, receiver,
                                                                        settings):
    """Saved while private addresses were allowed (or while the name pointed elsewhere):
    the dispatcher resolves again and refuses before connecting."""
    port = receiver.server.server_address[1]
    endpoint_create(store=store, actor=Actor.system(), url=f"http://localhost:{port}/hook",
                    events=["product.deleted"])
    endpoint_create(store=store, actor=Actor.system(), url=receiver.url("/literal"),
                    events=["product.deleted"])
    settings.WEBHOOK_ALLOW_PRIVATE = False
    with transaction.atomic():
        emit(store=store, event_type="product.deleted",
             data={"product_id": 1, "name": "x", "slug": "x",
                   "deleted_at": "2025-01-22T09:00:00.000000Z"})
    dispatch()
    assert receiver.requests == []
    errors = set(WebhookAttempt.objects.values_list("error", flat=True))
    assert any("localhost resolves to a loopback address" in e for e in errors)
    assert any("127.0.0.1 resolves to a loopback address" in e for e in errors)
    assert all(a.response_status is None for a in WebhookAttempt.objects.all())
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"pending"}
