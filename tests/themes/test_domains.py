"""Custom domains verified against a local DNS server; host routing, CSRF on the store's
host, canonical URLs and Caddy's on-demand TLS ``ask`` endpoint."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client, override_settings

from shopkeep.core.errors import Conflict, PermissionDenied, ServiceError
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import AuditLog
from shopkeep.themes.dns_check import check_domain
from shopkeep.themes.domains import domain_add, domain_check_record, domain_remove
from shopkeep.themes.models import StoreDomain
from shopkeep.themes.tasks import verify_domain
from tests.commerce import make_product
from tests.factories import make_store, owner_of
from tests.themes.dns_server import dns_server

pytestmark = pytest.mark.django_db
TARGET = "stores.platform.example"


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()


@pytest.fixture
def store():
    return make_store(slug="shop", name="Block Party")


@pytest.fixture
def zone(settings):
    with dns_server() as zone:
        settings.SHOPKEEP_DNS_NAMESERVERS = [f"127.0.0.1:{zone.port}"]
        settings.SHOPKEEP_CNAME_TARGET = TARGET
        yield zone


def _add(store, host="shop.example.com"):
    return domain_add(store=store, actor=Actor.for_user(owner_of(store)), hostname=host)


def test_a_domain_with_both_records_is_verified_and_served(client, store, zone):
    make_product(store, name="VIP Rank")
    domain = _add(store)
    zone.add(f"_shopkeep-challenge.{domain.hostname}", "TXT", domain.verification_token)
    zone.add(domain.hostname, "CNAME", f"{TARGET}.")
    verify_domain.call(domain_id=domain.pk)
    domain.refresh_from_db()
    assert domain.status == "verified" and domain.last_error == ""
    assert ("_shopkeep-challenge.shop.example.com", "TXT") in zone.queries
    page = client.get("/", HTTP_HOST="shop.example.com")
    html = page.content.decode()
    assert page.status_code == 200 and "Block Party" in html
    # Links stay on the host, without /s/<slug>/, and the canonical URL is the domain.
    assert 'href="/p/vip-rank/"' in html and "/s/shop/" not in html
    assert '<link rel="canonical" href="https://shop.example.com/">' in html
    assert client.get("/p/vip-rank/", HTTP_HOST="shop.example.com").status_code == 200
    # The platform path keeps working and names the domain as canonical.
    assert b'href="https://shop.example.com/"' in client.get("/s/shop/").content


def test_a_missing_txt_record_fails_with_a_message_and_is_not_served(client, store, zone):
    domain = _add(store)
    zone.add(domain.hostname, "CNAME", f"{TARGET}.")
    verify_domain.call(domain_id=domain.pk)
    domain.refresh_from_db()
    assert domain.status == "failed" and "TXT record" in domain.last_error
    assert client.get("/", HTTP_HOST="shop.example.com").status_code == 404


def test_a_cname_elsewhere_is_named_in_the_error(store, zone):
    domain = _add(store)
    zone.add(f"_shopkeep-challenge.{domain.hostname}", "TXT", domain.verification_token)
    zone.add(domain.hostname, "CNAME", "parking.registrar.example.")
    result = check_domain(domain.hostname, domain.verification_token)
    assert not result.ok and "parking.registrar.example" in result.error


def test_a_flattened_apex_with_the_platforms_addresses_passes(store, zone):
    domain = _add(store, "example.org")
    zone.add("_shopkeep-challenge.example.org", "TXT", domain.verification_token)
    zone.add(TARGET, "A", "203.0.113.7")
    zone.add("example.org", "A", "203.0.113.7")
    assert check_domain("example.org", domain.verification_token).ok
    zone.records[("example.org", "A")] = ["198.51.100.1"]
    assert not check_domain("example.org", domain.verification_token).ok


def test_a_dns_server_that_does_not_answer_is_a_clear_failure(settings, store):
    settings.SHOPKEEP_DNS_NAMESERVERS = ["127.0.0.1:9"]  # discard port: nothing answers
    settings.SHOPKEEP_CNAME_TARGET = TARGET
    from shopkeep.themes import dns_check

    dns_check.TIMEOUT_SECONDS, before = 0.5, dns_check.TIMEOUT_SECONDS
    try:
        result = check_domain("shop.example.com", "token")
    finally:
        dns_check.TIMEOUT_SECONDS = before
    assert (not result.ok and "did not answer" in result.error) or "failed" in result.error


def test_records_removed_later_stop_serving_the_domain(client, store):
    domain = _add(store)
    domain_check_record(domain_id=domain.pk, ok=True, error="")
    assert client.get("/", HTTP_HOST="shop.example.com").status_code == 200
    domain_check_record(domain_id=domain.pk, ok=False, error="No CNAME")
    assert client.get("/", HTTP_HOST="shop.example.com").status_code == 404


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "x", "a..b.com", "-a.com",
                                  "shop.example.com/evil", "shop.example.com:8443",
                                  "1.2.3.4", "a" * 64 + ".com"])
def test_bad_or_platform_host_names_are_refused(store, host):
    with pytest.raises(ServiceError) as err:
        _add(store, host)
    assert err.value.field == "hostname"
    assert not StoreDomain.objects.exists()


def test_a_domain_belongs_to_one_store(store):
    _add(store)
    other = make_store(slug="other")
    with pytest.raises(Conflict):
        _add(other, "SHOP.example.com.")
    assert StoreDomain.objects.get().store == store


def test_an_outsider_cannot_add_or_remove_a_stores_domain(store):
    domain = _add(store)
    other = make_store(slug="other")
    outsider = Actor.for_user(owner_of(other))
    with pytest.raises(PermissionDenied):
        domain_add(store=store, actor=outsider, hostname="x.example.com")
    with pytest.raises(PermissionDenied):
        domain_remove(store=store, actor=outsider, domain=domain)
    assert StoreDomain.objects.count() == 1


def test_removing_a_domain_stops_serving_it_at_once(client, store,
                                                    django_capture_on_commit_callbacks):
    domain = _add(store)
    domain_check_record(domain_id=domain.pk, ok=True, error="")
    assert client.get("/", HTTP_HOST="shop.example.com").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        domain_remove(store=store, actor=Actor.for_user(owner_of(store)), domain=domain)
    assert client.get("/", HTTP_HOST="shop.example.com").status_code == 404
    assert AuditLog.objects.filter(store=store, action="domain.removed").exists()


def test_forms_post_on_the_custom_domain_with_csrf_checks(store):
    product = make_product(store, name="VIP Rank")
    domain = _add(store)
    domain_check_record(domain_id=domain.pk, ok=True, error="")
    browser = Client(enforce_csrf_checks=True, HTTP_HOST="shop.example.com")
    browser.post("/basket/add/", {"product_id": product.pk, "quantity": "1"},
                 HTTP_ORIGIN="http://shop.example.com")
    page = browser.get("/basket/")
    token = page.cookies["csrftoken"].value
    response = browser.post("/basket/", {"product_id": product.pk, "quantity": "3",
                                         "csrfmiddlewaretoken": token},
                            HTTP_ORIGIN="http://shop.example.com")
    assert response.status_code == 302 and response["Location"] == "/basket/"
    assert browser.session[f"basket_{store.pk}"] == {str(product.pk): 3}
    # Another origin posting to the store's host is refused by CSRF.
    forged = browser.post("/basket/", {"product_id": product.pk, "quantity": "9",
                                       "csrfmiddlewaretoken": token},
                          HTTP_ORIGIN="https://evil.example")
    assert forged.status_code == 403


def test_a_store_host_serves_no_dashboard_or_other_store(client, store):
    make_store(slug="other")
    domain = _add(store)
    domain_check_record(domain_id=domain.pk, ok=True, error="")
    assert client.get("/dashboard/", HTTP_HOST="shop.example.com").status_code == 404
    assert client.get("/other/", HTTP_HOST="shop.example.com").status_code == 404
    assert client.get("/s/other/", HTTP_HOST="shop.example.com").status_code == 404


def test_an_unknown_host_is_404_not_a_500(client):
    response = client.get("/", HTTP_HOST="nobody.example.net")
    assert response.status_code == 404


@override_settings(SHOPKEEP_STORE_DOMAIN="shops.example.com",
                   ALLOWED_HOSTS=["testserver", ".shops.example.com"])
def test_each_store_is_served_on_its_subdomain(client, store):
    page = client.get("/", HTTP_HOST="shop.shops.example.com")
    assert page.status_code == 200 and b"Block Party" in page.content
    assert b'<link rel="canonical" href="http://shop.shops.example.com/">' in page.content
    assert client.get("/", HTTP_HOST="nope.shops.example.com").status_code == 404
    assert client.get("/", HTTP_HOST="a.b.shops.example.com").status_code == 404


def test_caddy_ask_answers_200_only_for_verified_domains(client, store):
    domain = _add(store)
    assert client.get("/tls/ask", {"domain": "shop.example.com"}).status_code == 404
    domain_check_record(domain_id=domain.pk, ok=True, error="")
    assert client.get("/tls/ask", {"domain": "shop.example.com"}).status_code == 200
    assert client.get("/tls/ask", {"domain": "evil.example.com"}).status_code == 404
    assert client.get("/tls/ask").status_code == 400
    store.status = "suspended"
    store.save()
    cache.clear()
    assert client.get("/tls/ask", {"domain": "shop.example.com"}).status_code == 404


@override_settings(SHOPKEEP_STORE_DOMAIN="shops.example.com")
def test_caddy_ask_knows_store_subdomains(client, store):
    assert client.get("/tls/ask", {"domain": "shop.shops.example.com"}).status_code == 200
    assert client.get("/tls/ask", {"domain": "ghost.shops.example.com"}).status_code == 404
