"""The owner picks the store's main domain among several (issue 13): canonical links follow
it and the store's other hosts redirect GET requests to it; /s/<slug>/ keeps working."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import IntegrityError, transaction

from shopkeep.core.errors import PermissionDenied, ServiceError
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import AuditLog
from shopkeep.themes.domains import domain_add, domain_check_record, domain_set_primary
from shopkeep.themes.models import StoreDomain
from shopkeep.themes.public_urls import store_public_url
from tests.commerce import make_product
from tests.factories import make_store, owner_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()


@pytest.fixture
def store():
    store = make_store(slug="shop", name="Block Party")
    make_product(store, name="VIP Rank")
    return store


def _owner(store) -> Actor:
    return Actor.for_user(owner_of(store))


def _verified(store, host: str) -> StoreDomain:
    domain = domain_add(store=store, actor=_owner(store), hostname=host)
    domain_check_record(domain_id=domain.pk, ok=True, error="")
    domain.refresh_from_db()
    return domain


@pytest.fixture
def two(store):
    return _verified(store, "a-shop.example.com"), _verified(store, "play.example.net")


def test_canonical_links_follow_the_chosen_main_domain(client, store, two):
    _first, second = two
    assert store_public_url(store, "/p/vip-rank/") == "https://a-shop.example.com/p/vip-rank/"
    domain_set_primary(store=store, actor=_owner(store), domain=second)
    assert store_public_url(store, "/p/vip-rank/") == "https://play.example.net/p/vip-rank/"
    html = client.get("/p/vip-rank/", HTTP_HOST="play.example.net").content.decode()
    assert '<link rel="canonical" href="https://play.example.net/p/vip-rank/">' in html
    sitemap = client.get("/sitemap.xml", HTTP_HOST="play.example.net").content.decode()
    assert "https://play.example.net/p/vip-rank/" in sitemap
    assert "a-shop.example.com" not in sitemap
    assert AuditLog.objects.filter(store=store, action="domain.primary_set").exists()


def test_the_other_domains_redirect_get_requests_with_path_and_query(client, store, two):
    _first, second = two
    domain_set_primary(store=store, actor=_owner(store), domain=second)
    response = client.get("/p/vip-rank/?ref=discord", HTTP_HOST="a-shop.example.com")
    assert response.status_code == 301
    assert response["Location"] == "https://play.example.net/p/vip-rank/?ref=discord"
    assert client.head("/", HTTP_HOST="a-shop.example.com").status_code == 301
    assert client.get("/", HTTP_HOST="play.example.net").status_code == 200


def test_a_form_post_on_another_domain_is_answered_there_not_redirected(client, store, two):
    _first, second = two
    domain_set_primary(store=store, actor=_owner(store), domain=second)
    product = store.products.get()
    response = client.post("/basket/add/", {"product_id": product.pk, "quantity": "1"},
                           HTTP_HOST="a-shop.example.com")
    assert response.status_code != 301


def test_the_platform_address_keeps_working_and_names_the_main_domain(client, store, two):
    domain_set_primary(store=store, actor=_owner(store), domain=two[1])
    page = client.get("/s/shop/p/vip-rank/")
    assert page.status_code == 200
    assert b'href="https://play.example.net/p/vip-rank/"' in page.content


def test_the_store_subdomain_redirects_to_the_main_domain(client, store, two, settings):
    settings.SHOPKEEP_STORE_DOMAIN = "shops.example.org"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, ".shops.example.org"]
    assert client.get("/", HTTP_HOST="shop.shops.example.org").status_code == 200
    domain_set_primary(store=store, actor=_owner(store), domain=two[0])
    response = client.get("/p/vip-rank/", HTTP_HOST="shop.shops.example.org")
    assert (response.status_code, response["Location"]) == (
        301, "https://a-shop.example.com/p/vip-rank/")


def test_without_a_main_domain_nothing_redirects(client, store, two):
    domain_set_primary(store=store, actor=_owner(store), domain=two[1])
    domain_set_primary(store=store, actor=_owner(store), domain=None)
    assert client.get("/", HTTP_HOST="a-shop.example.com").status_code == 200
    assert client.get("/", HTTP_HOST="play.example.net").status_code == 200
    assert not StoreDomain.objects.filter(is_primary=True).exists()


def test_a_main_domain_whose_dns_fails_stops_redirecting(client, store, two):
    _first, second = two
    domain_set_primary(store=store, actor=_owner(store), domain=second)
    domain_check_record(domain_id=second.pk, ok=False, error="No CNAME")
    assert client.get("/", HTTP_HOST="a-shop.example.com").status_code == 200
    assert store_public_url(store) == "https://a-shop.example.com/"


def test_only_a_verified_domain_can_be_the_main_one(store, two):
    pending = domain_add(store=store, actor=_owner(store), hostname="new.example.com")
    with pytest.raises(ServiceError) as err:
        domain_set_primary(store=store, actor=_owner(store), domain=pending)
    assert err.value.code == "domain_not_verified"
    assert not StoreDomain.objects.filter(is_primary=True).exists()


def test_choosing_another_main_domain_moves_the_mark(store, two):
    first, second = two
    domain_set_primary(store=store, actor=_owner(store), domain=first)
    domain_set_primary(store=store, actor=_owner(store), domain=second)
    assert list(StoreDomain.objects.filter(is_primary=True)) == [second]


def test_the_database_refuses_two_main_domains_in_one_store(store, two):
    StoreDomain.objects.filter(pk=two[0].pk).update(is_primary=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        StoreDomain.objects.filter(pk=two[1].pk).update(is_primary=True)


def test_an_outsider_cannot_choose_a_stores_main_domain(store, two):
    other = make_store(slug="other")
    theirs = _verified(other, "other.example.com")
    with pytest.raises(PermissionDenied):
        domain_set_primary(store=store, actor=Actor.for_user(owner_of(other)), domain=two[0])
    with pytest.raises(ServiceError) as err:  # another store's domain, by the right owner
        domain_set_primary(store=store, actor=_owner(store), domain=theirs)
    assert err.value.status == 404
    assert not StoreDomain.objects.filter(is_primary=True).exists()


def test_the_dashboard_makes_a_domain_the_main_address(client, store, two):
    client.force_login(owner_of(store))
    _first, second = two
    page = client.get(f"/dashboard/{store.slug}/storefront/domains/").content.decode()
    assert "Make main address" in page
    response = client.post(
        f"/dashboard/{store.slug}/storefront/domains/{second.pk}/primary/", follow=True)
    assert "is now the store&#x27;s main address" in response.content.decode()
    second.refresh_from_db()
    assert second.is_primary
    page = client.get(f"/dashboard/{store.slug}/storefront/domains/").content.decode()
    assert 'data-testid="primary-badge"' in page and "Stop using as main address" in page


def test_the_dashboard_answers_404_for_another_stores_domain(client, store, two):
    other = make_store(slug="other")
    theirs = _verified(other, "other.example.com")
    client.force_login(owner_of(store))
    response = client.post(f"/dashboard/{store.slug}/storefront/domains/{theirs.pk}/primary/")
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert not theirs.is_primary
