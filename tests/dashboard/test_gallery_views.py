"""The product Pictures tab, and the gallery on the storefront's product page."""

from __future__ import annotations

import json
import re

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

from shopkeep.catalog.gallery import MAX_GALLERY_IMAGES
from shopkeep.catalog.models import ProductImage
from shopkeep.stores.audit import Actor
from shopkeep.themes.services import storefront_draft_update, storefront_publish
from tests.commerce import make_product
from tests.factories import make_store, owner_of
from tests.images import PNG

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return make_store(slug="shop", name="Block Party")


@pytest.fixture
def product(store):
    return make_product(store, name="VIP Rank", slug="vip-rank")


def _url(store, product, *rest) -> str:
    return f"/dashboard/{store.slug}/products/{product.pk}/pictures/" + "".join(
        f"{part}/" for part in rest)


def _upload(client, store, product, alt="The VIP badge", data=PNG):
    return client.post(_url(store, product), {
        "image": SimpleUploadedFile("x.png", data, content_type="image/png"),
        "alt_text": alt}, follow=True)


def test_an_owner_uploads_orders_and_removes_pictures(client, store, product):
    client.force_login(owner_of(store))
    assert client.get(_url(store, product)).status_code == 200
    page = _upload(client, store, product).content.decode()
    assert "Picture added" in page and 'data-testid="gallery-item"' in page
    _upload(client, store, product, alt="The VIP kit")
    second = ProductImage.objects.get(alt_text="The VIP kit")
    client.post(_url(store, product, second.pk, "up"))
    assert list(ProductImage.objects.values_list("alt_text", flat=True)) == [
        "The VIP kit", "The VIP badge"]
    client.post(_url(store, product, second.pk, "alt"), {"alt_text": "Kit contents"})
    second.refresh_from_db()
    assert second.alt_text == "Kit contents"
    response = client.post(_url(store, product, second.pk, "delete"), follow=True)
    assert "Picture removed" in response.content.decode()
    assert list(ProductImage.objects.values_list("alt_text", flat=True)) == ["The VIP badge"]


def test_a_refused_upload_is_a_form_error_and_writes_nothing(client, store, product):
    client.force_login(owner_of(store))
    response = _upload(client, store, product, data=b"<script>alert(1)</script>")
    assert response.status_code == 400
    assert "PNG, JPEG, GIF or WebP" in response.content.decode()
    assert not ProductImage.objects.exists()


def test_a_full_gallery_offers_no_upload_form(client, store, product):
    client.force_login(owner_of(store))
    for n in range(MAX_GALLERY_IMAGES):
        _upload(client, store, product, alt=f"p{n}")
    page = client.get(_url(store, product)).content.decode()
    assert "The gallery is full" in page and 'type="file"' not in page


def test_an_outsider_gets_404_and_changes_nothing(client, store, product):
    client.force_login(owner_of(store))
    _upload(client, store, product)
    picture = ProductImage.objects.get()
    other = make_store(slug="other")
    client.force_login(owner_of(other))
    theirs = make_product(other, name="Theirs")
    assert client.get(_url(store, product)).status_code == 404
    assert client.get(_url(other, product)).status_code == 404  # our product via their store
    for action in ("alt", "up", "delete"):
        assert client.post(_url(other, theirs, picture.pk, action),
                           {"alt_text": "x"}).status_code == 404
    assert _upload(client, other, product).status_code == 404
    picture.refresh_from_db()
    assert picture.alt_text == "The VIP badge" and ProductImage.objects.count() == 1


@pytest.mark.parametrize("theme", ["default", "midnight"])
def test_the_product_page_shows_the_gallery_in_order_with_alt_text(client, store, product,
                                                                   theme):
    actor = Actor.for_user(owner_of(store))
    storefront_draft_update(store=store, actor=actor, changes={"theme": theme})
    storefront_publish(store=store, actor=actor)
    client.force_login(owner_of(store))
    _upload(client, store, product, alt="First shot")
    _upload(client, store, product, alt='Second "shot" <b>')
    client.logout()
    cache.clear()
    html = client.get("/s/shop/p/vip-rank/").content.decode()
    gallery = html[html.index('data-testid="gallery"'):]
    alts = re.findall(r'<img src="[^"]+" alt="([^"]*)"', gallery)
    assert alts[:2] == ["First shot", "Second &quot;shot&quot; &lt;b&gt;"]
    assert 'loading="lazy"' in gallery
    ld = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html,
                              re.S).group(1))
    assert len(ld["image"]) == 2 and all(u.startswith("http") for u in ld["image"])
    links = re.findall(r'<a href="(/media/product-images/[^"]+)"', gallery)[:2]
    assert len(links) == 2
    for src in links:
        assert client.get(src).status_code == 200


def test_a_gallery_change_refreshes_the_cached_product_page(client, store, product):
    cache.clear()
    assert 'data-testid="gallery"' not in client.get("/s/shop/p/vip-rank/").content.decode()
    client.force_login(owner_of(store))
    _upload(client, store, product, alt="New")
    client.logout()
    assert 'data-testid="gallery"' in client.get("/s/shop/p/vip-rank/").content.decode()
