"""A product's gallery pictures: upload, alt text, order, remove (``catalog.gallery``)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from shopkeep.catalog import gallery
from shopkeep.catalog.models import Product, ProductImage
from shopkeep.core.errors import ServiceError
from shopkeep.core.tenancy import get_for_store
from shopkeep.dashboard.access import store_view
from shopkeep.dashboard.views import form_error
from shopkeep.stores.audit import Actor
from shopkeep.stores.permissions import Perm


class GalleryImageForm(forms.Form):
    image = forms.FileField(help_text=f"PNG, JPEG, GIF or WebP, up to "
                            f"{gallery.MAX_GALLERY_BYTES // (1024 * 1024)} MB.")
    alt_text = forms.CharField(max_length=gallery.MAX_ALT_TEXT, required=False,
                               label="Alt text", help_text="What the picture shows, for "
                               "screen readers and when it cannot load.")


def _product(request: HttpRequest, product_id: int) -> Product:
    return get_for_store(Product.objects.alive(), request.store, pk=product_id)


def _back(request: HttpRequest, product: Product) -> HttpResponse:
    return redirect("dashboard:product_gallery", store_slug=request.store.slug,
                    product_id=product.pk)


@store_view(Perm.CATALOG_MANAGE)
def product_gallery(request: HttpRequest, product_id: int) -> HttpResponse:
    product = _product(request, product_id)
    form = GalleryImageForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            gallery.gallery_image_add(store=request.store, actor=Actor.for_user(request.user),
                                      product=product, image=form.cleaned_data["image"],
                                      alt_text=form.cleaned_data["alt_text"])
        except ServiceError as exc:
            form_error(form, exc)
        else:
            messages.success(request, "Picture added; it shows on the product page after the "
                             "cover, last in the gallery.")
            return _back(request, product)
    images = list(ProductImage.objects.filter(store=request.store, product=product))
    return render(request, "dashboard/catalog/product_gallery.html", {
        "product": product, "images": images, "form": form,
        "max_images": gallery.MAX_GALLERY_IMAGES, "max_alt": gallery.MAX_ALT_TEXT,
    }, status=400 if form.errors else 200)


@require_POST
@store_view(Perm.CATALOG_MANAGE)
def product_gallery_action(request: HttpRequest, product_id: int, image_id: int,
                           action: str) -> HttpResponse:
    product = _product(request, product_id)
    get_for_store(ProductImage.objects.filter(product=product), request.store, pk=image_id)
    actor = Actor.for_user(request.user)
    try:
        if action == "alt":
            gallery.gallery_image_update(store=request.store, actor=actor, product=product,
                                         image_id=image_id,
                                         alt_text=str(request.POST.get("alt_text", ""))[:1000])
            messages.success(request, "Alt text saved.")
        elif action in ("up", "down"):
            gallery.gallery_image_move(store=request.store, actor=actor, product=product,
                                       image_id=image_id, direction=action)
            messages.success(request, "Picture moved {}.".format(
                "earlier" if action == "up" else "later"))
        elif action == "delete":
            gallery.gallery_image_delete(store=request.store, actor=actor, product=product,
                                         image_id=image_id)
            messages.success(request, "Picture removed from the gallery and the product page.")
        else:
            messages.error(request, "Unknown action.")
    except ServiceError as exc:
        messages.error(request, exc.message)
    return _back(request, product)
