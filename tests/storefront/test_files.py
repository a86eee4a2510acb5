"""Product images are public; a download reaches only the buyer of a paid order."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from shopkeep.catalog.services import ProductInput, product_create
from shopkeep.core.errors import ServiceError
from shopkeep.core.uploads import check_download
from shopkeep.payments.flows import refund_execute, refund_request
from shopkeep.stores.audit import Actor
from tests.commerce import make_shop, paid_order, place_order
from tests.factories import owner_of
from tests.images import image_bytes

pytestmark = pytest.mark.django_db

PNG = image_bytes("PNG")  # a real image: the header is parsed


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path), "base_url": "/media/"}}}
    # Django's setting_changed handler resets default_storage, so files land in tmp_path.
    return tmp_path


@pytest.fixture
def store():
    return make_shop(slug="shop")


def _product(store, **files):
    return product_create(store=store, actor=Actor.for_user(owner_of(store)),
                          data=ProductInput(name="Map Pack", price="4.00", type="download"),
                          **files)


def test_a_product_image_is_served_publicly_with_its_type(client, store):
    product = _product(store, image=SimpleUploadedFile("cat.png", PNG))
    response = client.get(product.image.url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PNG


@pytest.mark.parametrize("name", ["../secret.png", "x.png", "a" * 24 + ".html",
                                  "..%2f..%2fsettings.py"])
def test_only_names_the_upload_check_made_are_served(client, name):
    assert client.get(f"/media/product-images/{name}").status_code == 404


def test_downloads_are_not_reachable_as_images(client, store):
    product = _product(store, download=SimpleUploadedFile("pack.zip", b"PK\x03\x04data"))
    name = product.download.name.rsplit("/", 1)[-1]
    assert client.get(f"/media/product-images/{name}").status_code == 404
    assert client.get(f"/media/{product.download.name}").status_code == 404


def test_the_buyer_downloads_after_payment_and_not_after_a_full_refund(
        client, store, django_capture_on_commit_callbacks):
    product = _product(store, download=SimpleUploadedFile("pack.zip", b"PK\x03\x04data"))
    unpaid = place_order(store, product, email="late@example.com")
    item = unpaid.items.get()
    url = f"/s/shop/order/{unpaid.access_key}/download/{item.pk}/"
    assert client.get(url).status_code == 404

    order = paid_order(store, product, capture=django_capture_on_commit_callbacks)
    item = order.items.get()
    url = f"/s/shop/order/{order.access_key}/download/{item.pk}/"
    assert b"Download" in client.get(f"/s/shop/order/{order.access_key}/").content
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="map-pack.zip"'
    assert b"".join(response.streaming_content) == b"PK\x03\x04data"
    assert client.get(f"/s/shop/order/{unpaid.access_key}/download/{item.pk}/"
                      ).status_code == 404  # another order's item

    refund = refund_request(store=store, actor=Actor.for_user(owner_of(store)), order=order,
                            amount=None, reason="")
    refund_execute(refund_id=refund.pk)
    assert client.get(url).status_code == 404


def test_oversized_downloads_are_refused():
    upload = SimpleUploadedFile("big.zip", b"x")
    upload.size = 51 * 1024 * 1024
    with pytest.raises(ServiceError):
        check_download(upload)
