"""The themed storefront: SEO tags, the store's stylesheet, sitemap and robots, listing
add-to-basket, maintenance, the owner's preview and the anonymous page cache."""

from __future__ import annotations

import json
import re

import pytest
from django.core.cache import cache

from shopkeep.catalog.models import Product
from shopkeep.stores.audit import Actor
from shopkeep.themes.services import (
    page_create,
    storefront_draft_update,
    storefront_maintenance_set,
    storefront_publish,
)
from tests.commerce import make_product, place_order
from tests.factories import owner_of
from tests.storefront.shop import url

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()


def _owner(store):
    return Actor.for_user(owner_of(store))


def _publish(store, **changes):
    storefront_draft_update(store=store, actor=_owner(store), changes=changes)
    storefront_publish(store=store, actor=_owner(store))


def test_product_page_has_title_description_canonical_og_and_json_ld(client, store, product):
    html = client.get(url("product", product.slug)).content.decode()
    assert "<title>VIP Rank · Block Party</title>" in html
    assert '<link rel="canonical" href="http://127.0.0.1:8000/s/shop/p/vip-rank/">' in html
    assert '<meta property="og:type" content="product">' in html
    ld = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html,
                              re.S).group(1))
    assert ld["@type"] == "Product" and ld["name"] == "VIP Rank"
    assert ld["offers"] == {"@type": "Offer", "price": "29.99", "priceCurrency": "USD",
                            "url": "http://127.0.0.1:8000/s/shop/p/vip-rank/",
                            "availability": "https://schema.org/InStock"}


def test_json_ld_cannot_be_closed_by_a_product_name(client, store):
    evil = make_product(store, name="</script><script>alert(1)</script>", slug="evil")
    html = client.get(url("product", evil.slug)).content.decode()
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert "\\u003C/script\\u003E" in block.group(1)
    assert "<script>alert(1)" not in html


def test_sitemap_lists_products_and_published_pages_only(client, store, product, outsider):
    page_create(store=store, actor=_owner(store), title="Rules", is_published=True)
    page_create(store=store, actor=_owner(store), title="Secret plans")
    make_product(outsider, name="Foreign")
    body = client.get(url("sitemap")).content.decode()
    assert "<loc>http://127.0.0.1:8000/s/shop/p/vip-rank/</loc>" in body
    assert "/s/shop/pages/rules/" in body
    assert "secret" not in body and "foreign" not in body


def test_robots_keeps_private_pages_out_and_points_to_the_sitemap(client, store):
    body = client.get(url("robots")).content.decode()
    assert "Disallow: /s/shop/order/" in body
    assert "Sitemap: http://127.0.0.1:8000/s/shop/sitemap.xml" in body


def test_the_store_stylesheet_carries_settings_and_custom_css(client, store):
    _publish(store, options={"accent": "#ff0066"}, custom_css=".hero { border: 2px solid; }")
    response = client.get(url("store_css"))
    assert response["Content-Type"] == "text/css; charset=utf-8"
    body = response.content.decode()
    assert "--accent: #ff0066;" in body and ".hero { border: 2px solid; }" in body
    page = client.get(url("home")).content.decode()
    assert "/s/shop/store.css?v=" in page and "<style" not in page


def test_the_listing_adds_to_the_basket(client, store, product):
    response = client.post(url("basket_add"), {"product_id": product.pk, "quantity": "1"})
    assert response.status_code == 302 and response["Location"] == url("basket")
    assert client.session[f"basket_{store.pk}"] == {str(product.pk): 1}


def test_a_cross_site_add_to_basket_is_refused(client, store, product):
    response = client.post(url("basket_add"), {"product_id": product.pk, "quantity": "1"},
                           HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 403
    assert f"basket_{store.pk}" not in client.session


def test_another_stores_product_cannot_be_added_from_a_listing(client, store, outsider):
    foreign = make_product(outsider, name="Foreign")
    response = client.post(url("basket_add"), {"product_id": foreign.pk, "quantity": "1"})
    assert response.status_code == 404
    assert f"basket_{store.pk}" not in client.session


def test_unpublished_pages_are_404_for_buyers(client, store):
    page_create(store=store, actor=_owner(store), title="Rules", body="Be **nice**",
                is_published=True)
    page_create(store=store, actor=_owner(store), title="Draft page")
    page = client.get(url("page", "rules"))
    assert page.status_code == 200 and b"<strong>nice</strong>" in page.content
    assert client.get(url("page", "draft-page")).status_code == 404
    assert b"Draft page" not in client.get(url("home")).content


def test_a_page_of_another_store_is_404(client, store, outsider):
    page_create(store=outsider, actor=_owner(outsider), title="Rules", is_published=True)
    assert client.get(url("page", "rules")).status_code == 404


def test_maintenance_answers_a_branded_503_with_retry_after(client, store, product):
    storefront_maintenance_set(store=store, actor=_owner(store), enabled=True,
                               message="New season tonight", retry_minutes=15)
    for name, args in (("home", ()), ("product", (product.slug,)), ("basket", ()),
                       ("checkout", ())):
        response = client.get(url(name, *args))
        assert response.status_code == 503, name
        assert response["Retry-After"] == "900"
        assert b"New season tonight" in response.content and b"Block Party" in response.content
    assert client.post(url("basket_add"), {"product_id": product.pk}).status_code == 503


def test_existing_orders_keep_working_during_maintenance(client, store, product):
    order = place_order(store, product)
    storefront_maintenance_set(store=store, actor=_owner(store), enabled=True)
    assert client.get(url("order", order.access_key)).status_code == 200
    assert client.get(url("order_live", order.access_key)).status_code == 200
    response = client.post(url("order", order.access_key))  # "Pay now"
    assert response.status_code == 302 and "/pay/sandbox/" in response["Location"]


def test_members_see_the_store_during_maintenance(client, store, product):
    storefront_maintenance_set(store=store, actor=_owner(store), enabled=True)
    client.force_login(owner_of(store))
    assert client.get(url("home")).status_code == 200


def test_only_members_preview_the_draft(client, store, outsider):
    _publish(store, tagline="Published tagline")
    storefront_draft_update(store=store, actor=_owner(store), changes={"tagline": "Draft one"})
    client.force_login(owner_of(store))
    session = client.session
    session[f"storefront_preview_{store.pk}"] = True
    session.save()
    assert b"Draft one" in client.get(url("home")).content
    # The same session flag does nothing for an owner of another store.
    client.force_login(owner_of(outsider))
    session = client.session
    session[f"storefront_preview_{store.pk}"] = True
    session.save()
    page = client.get(url("home")).content
    assert b"Published tagline" in page and b"Draft one" not in page


def test_anonymous_pages_are_cached_and_invalidated_by_catalogue_changes(client, store,
                                                                          product):
    first = client.get(url("home"))
    assert first["X-Shopkeep-Cache"] == "miss"
    assert client.get(url("home"))["X-Shopkeep-Cache"] == "hit"
    Product.objects.filter(pk=product.pk).update(stock_enabled=True, stock_quantity=0)
    # Stock is part of the key: sold out shows at once.
    again = client.get(url("home"))
    assert again["X-Shopkeep-Cache"] == "miss" and b"Out of stock" in again.content


def test_publishing_invalidates_cached_pages(client, store, product):
    client.get(url("home"))
    _publish(store, tagline="Fresh look")
    response = client.get(url("home"))
    assert response["X-Shopkeep-Cache"] == "miss" and b"Fresh look" in response.content


def test_a_visitor_with_a_basket_is_never_served_from_the_cache(client, store, product):
    client.get(url("home"))
    client.post(url("basket_add"), {"product_id": product.pk, "quantity": "1"})
    response = client.get(url("home"))
    assert "X-Shopkeep-Cache" not in response
    assert b'data-testid="basket-count">1<' in response.content
