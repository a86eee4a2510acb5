"""Product galleries (issue 13): pictures after the cover with alt text, in the owner's
order, capped in count and size, each checked by its bytes; another store's pictures are
out of reach."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from shopkeep.catalog.gallery import (
    MAX_GALLERY_IMAGES,
    gallery_image_add,
    gallery_image_delete,
    gallery_image_move,
    gallery_image_update,
)
from shopkeep.catalog.models import Product, ProductImage
from shopkeep.core.errors import PermissionDenied, ServiceError
from shopkeep.core.uploads import MAX_IMAGE_BYTES
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import AuditLog, Role
from tests.commerce import make_product
from tests.factories import add_member, make_store, owner_of
from tests.images import PNG, image_bytes, png_bomb

pytestmark = pytest.mark.django_db


def _png(name: str = "shot.png", data: bytes = PNG) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/png")


@pytest.fixture
def product(store):
    return make_product(store, name="VIP Rank")


def _add(store, actor, product, alt: str = "", data: bytes = PNG) -> ProductImage:
    return gallery_image_add(store=store, actor=actor, product=product, image=_png(data=data),
                             alt_text=alt)


def _order(product) -> list[str]:
    return list(ProductImage.objects.filter(product=product).values_list("alt_text", flat=True))


def test_pictures_are_added_in_order_with_their_alt_text(store, actor, product):
    before = Product.objects.get(pk=product.pk).updated_at
    first = _add(store, actor, product, "The VIP chat badge")
    _add(store, actor, product, "  The   VIP kit  ")
    assert _order(product) == ["The VIP chat badge", "The VIP kit"]
    assert first.image.name.startswith("product-images/") and first.image.name.endswith(".png")
    assert default_storage.exists(first.image.name)
    assert Product.objects.get(pk=product.pk).updated_at > before  # cached pages refresh
    assert AuditLog.objects.filter(store=store, action="product.image_added").count() == 2


def test_moving_a_picture_swaps_it_with_its_neighbour(store, actor, product):
    for alt in ("a", "b", "c"):
        _add(store, actor, product, alt)
    c = ProductImage.objects.get(alt_text="c")
    gallery_image_move(store=store, actor=actor, product=product, image_id=c.pk,
                       direction="up")
    assert _order(product) == ["a", "c", "b"]
    a = ProductImage.objects.get(alt_text="a")
    gallery_image_move(store=store, actor=actor, product=product, image_id=a.pk,
                       direction="up")  # already first: nothing moves
    assert _order(product) == ["a", "c", "b"]
    gallery_image_move(store=store, actor=actor, product=product, image_id=a.pk,
                       direction="down")
    assert _order(product) == ["c", "a", "b"]
    assert list(ProductImage.objects.filter(product=product).values_list(
        "position", flat=True)) == [1, 2, 3]


def test_the_gallery_is_capped_and_a_refused_upload_writes_nothing(store, actor, product):
    for n in range(MAX_GALLERY_IMAGES):
        _add(store, actor, product, f"p{n}")
    files_before = len(default_storage.listdir("product-images")[1])
    with pytest.raises(ServiceError) as err:
        _add(store, actor, product, "one too many")
    assert err.value.code == "too_many_images"
    assert ProductImage.objects.filter(product=product).count() == MAX_GALLERY_IMAGES
    assert len(default_storage.listdir("product-images")[1]) == files_before


@pytest.mark.parametrize(("data", "code"), [
    (b"<svg onload=alert(1)>", "invalid_image"),
    (png_bomb(), "invalid_image"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * (MAX_IMAGE_BYTES + 1), "invalid_image"),
])
def test_hostile_or_oversized_pictures_are_refused(store, actor, product, data, code):
    with pytest.raises(ServiceError) as err:
        _add(store, actor, product, "x", data=data)
    assert err.value.code == code
    assert not ProductImage.objects.exists()


def test_alt_text_is_one_line_of_plain_text(store, actor, product):
    picture = _add(store, actor, product, "ok")
    with pytest.raises(ServiceError) as err:
        gallery_image_update(store=store, actor=actor, product=product, image_id=picture.pk,
                             alt_text="line\nbreak")
    assert err.value.field == "alt_text"
    gallery_image_update(store=store, actor=actor, product=product, image_id=picture.pk,
                         alt_text="x" * 500)
    picture.refresh_from_db()
    assert picture.alt_text == "x" * 200


def test_removing_a_picture_deletes_its_file_after_commit(
        store, actor, product, django_capture_on_commit_callbacks):
    picture = _add(store, actor, product, "gone")
    name = picture.image.name
    with django_capture_on_commit_callbacks(execute=True):
        gallery_image_delete(store=store, actor=actor, product=product, image_id=picture.pk)
    assert not ProductImage.objects.exists()
    assert not default_storage.exists(name)


def test_support_staff_cannot_change_a_gallery(store, product):
    support = Actor.for_user(add_member(store, Role.SUPPORT).user)
    with pytest.raises(PermissionDenied):
        gallery_image_add(store=store, actor=support, product=product, image=_png())
    assert not ProductImage.objects.exists()


def test_another_stores_pictures_and_products_are_out_of_reach(store, actor, product):
    other = make_store(slug="other")
    other_actor = Actor.for_user(owner_of(other))
    theirs = make_product(other, name="Their Kit")
    picture = _add(other, other_actor, theirs, "theirs")
    for call in (
        lambda: gallery_image_update(store=store, actor=actor, product=product,
                                     image_id=picture.pk, alt_text="mine now"),
        lambda: gallery_image_delete(store=store, actor=actor, product=product,
                                     image_id=picture.pk),
        lambda: gallery_image_move(store=store, actor=actor, product=product,
                                   image_id=picture.pk, direction="up"),
    ):
        with pytest.raises(ServiceError) as err:
            call()
        assert err.value.status == 404
    with pytest.raises(Product.DoesNotExist):  # their product, through our store
        gallery_image_add(store=store, actor=actor, product=theirs, image=_png())
    picture.refresh_from_db()
    assert picture.alt_text == "theirs"
    assert ProductImage.objects.count() == 1


def test_a_jpeg_and_a_webp_are_accepted(store, actor, product):
    for fmt, name in (("JPEG", "a.jpg"), ("WEBP", "b.webp")):
        gallery_image_add(store=store, actor=actor, product=product,
                          image=SimpleUploadedFile(name, image_bytes(fmt)), alt_text=fmt)
    names = [p.image.name for p in ProductImage.objects.all()]
    assert names[0].endswith(".jpg") and names[1].endswith(".webp")
