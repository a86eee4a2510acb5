from __future__ import annotations

import json

from django import template
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.html import strip_tags
from django.utils.safestring import SafeString, mark_safe

from shopkeep.storefront.pricing import product_image_url

register = template.Library()

# The same escapes as Django's json_script: nothing in the data can close the element.
_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


@register.filter
def ld_json(data: dict) -> SafeString:
    """schema.org JSON-LD. A data block, never executed, so the strict CSP does not apply."""
    text = json.dumps(data, cls=DjangoJSONEncoder, separators=(",", ":")).translate(_ESCAPES)
    return mark_safe(f'<script type="application/ld+json">{text}</script>')  # noqa: S308


@register.filter
def plain(html: str, length: int = 160) -> str:
    """Rendered Markdown as one line of text (meta descriptions)."""
    text = " ".join(strip_tags(html or "").split())
    return text if len(text) <= length else text[: length - 1].rsplit(" ", 1)[0] + "…"


@register.simple_tag(takes_context=True)
def absolute(context, path: str) -> str:
    request = context.get("request")
    return request.build_absolute_uri(path) if request is not None else path


@register.filter
def image_url(field) -> str:
    """A product image's public address (the route that serves only checked uploads);
    works on the platform host and on a store's own host alike."""
    return product_image_url(field)
