"""A product's gallery: more pictures after its cover, each with alt text, in the owner's
order. Capped per product (count and bytes), each upload checked by its bytes like the
cover; every change touches the product so cached storefront pages refresh."""

from __future__ import annotations

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from shopkeep.catalog.models import Product, ProductImage
from shopkeep.core.errors import ServiceError
from shopkeep.core.text import clean_line, has_control_chars
from shopkeep.core.uploads import MAX_IMAGE_BYTES, check_image
from shopkeep.stores.audit import Actor, audit_record
from shopkeep.stores.authz import require_permission
from shopkeep.stores.models import Store
from shopkeep.stores.permissions import Perm

# Besides the cover: a page of ten pictures stays quick on a phone (each lazy-loaded).
MAX_GALLERY_IMAGES = 9
MAX_GALLERY_BYTES = MAX_IMAGE_BYTES  # per picture, as for the cover
MAX_ALT_TEXT = 200


def _alt(value: str) -> str:
    if has_control_chars(value or ""):
        raise ServiceError("invalid_alt_text", "Alt text is one line of plain text.",
                           field="alt_text")
    return clean_line(value, max_length=MAX_ALT_TEXT)


def _locked_product(store: Store, product: Product) -> Product:
    # The product row is the lock that makes the count cap and the positions hold when two
    # uploads or moves arrive at once.
    return Product.objects.alive().select_for_update().get(pk=product.pk, store=store)


def _touch(product: Product) -> None:
    Product.objects.filter(pk=product.pk).update(updated_at=timezone.now())


def _image_of(store: Store, product: Product, image_id: int) -> ProductImage:
    found = ProductImage.objects.filter(pk=image_id, store=store, product=product).first()
    if found is None:
        raise ServiceError("not_found", "No such picture.", status=404)
    return found


@transaction.atomic
def gallery_image_add(*, store: Store, actor: Actor, product: Product, image: UploadedFile,
                      alt_text: str = "") -> ProductImage:
    require_permission(store, actor, Perm.CATALOG_MANAGE)
    product = _locked_product(store, product)
    alt = _alt(alt_text)
    count = ProductImage.objects.filter(product=product).count()
    if count >= MAX_GALLERY_IMAGES:
        raise ServiceError("too_many_images", f"A product has at most {MAX_GALLERY_IMAGES} "
                           "gallery pictures besides its cover; remove one first.",
                           field="image")
    checked = check_image(image, max_bytes=MAX_GALLERY_BYTES)
    last = ProductImage.objects.filter(product=product).aggregate(m=Max("position"))["m"]
    row = ProductImage.objects.create(store=store, product=product, image=checked,
                                      alt_text=alt, position=(last or 0) + 1)
    _touch(product)
    audit_record(store=store, actor=actor, action="product.image_added", obj=product,
                 details={"image": row.pk, "alt_text": alt})
    return row


@transaction.atomic
def gallery_image_update(*, store: Store, actor: Actor, product: Product, image_id: int,
                         alt_text: str) -> ProductImage:
    require_permission(store, actor, Perm.CATALOG_MANAGE)
    product = _locked_product(store, product)
    row = _image_of(store, product, image_id)
    row.alt_text = _alt(alt_text)
    row.save(update_fields=["alt_text"])
    _touch(product)
    audit_record(store=store, actor=actor, action="product.image_changed", obj=product,
                 details={"image": row.pk, "alt_text": row.alt_text})
    return row


@transaction.atomic
def gallery_image_move(*, store: Store, actor: Actor, product: Product, image_id: int,
                       direction: str) -> list[ProductImage]:
    """Swap a picture with its neighbour ("up" is earlier on the page); positions are
    renumbered 1..n so gaps and ties left by deletions never confuse the order."""
    require_permission(store, actor, Perm.CATALOG_MANAGE)
    if direction not in ("up", "down"):
        raise ServiceError("invalid_direction", "Move a picture up or down.")
    product = _locked_product(store, product)
    rows = list(ProductImage.objects.filter(product=product).order_by("position", "id"))
    index = next((i for i, row in enumerate(rows) if row.pk == image_id), None)
    if index is None:
        raise ServiceError("not_found", "No such picture.", status=404)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(rows):
        rows[index], rows[other] = rows[other], rows[index]
    for position, row in enumerate(rows, start=1):
        if row.position != position:
            row.position = position
            row.save(update_fields=["position"])
    _touch(product)
    audit_record(store=store, actor=actor, action="product.images_reordered", obj=product,
                 details={"order": [row.pk for row in rows]})
    return rows


@transaction.atomic
def gallery_image_delete(*, store: Store, actor: Actor, product: Product,
                         image_id: int) -> None:
    require_permission(store, actor, Perm.CATALOG_MANAGE)
    product = _locked_product(store, product)
    row = _image_of(store, product, image_id)
    name = row.image.name
    storage = row.image.storage
    row.delete()
    _touch(product)
    audit_record(store=store, actor=actor, action="product.image_removed", obj=product,
                 details={"image": image_id})
    # The file goes only once the row's removal is committed (a rollback keeps both).
    transaction.on_commit(lambda: storage.delete(name))
