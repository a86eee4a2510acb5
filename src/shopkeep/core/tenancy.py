"""Look objects up inside one store.

Every view and API handler fetches store-owned rows through ``get_for_store`` so that an id
from another store and an id that does not exist are the same 404: no response tells an
outsider that a row exists.
"""

from __future__ import annotations

from typing import TypeVar

from django.db import models
from django.http import Http404

M = TypeVar("M", bound=models.Model)


class NotFound(Http404):
    """Raised for missing *and* foreign objects alike; the API renders it as a JSON 404."""


def scoped(model_or_qs: type[M] | models.QuerySet[M], store: models.Model) -> models.QuerySet[M]:
    if isinstance(model_or_qs, models.QuerySet):
        return model_or_qs.filter(store=store)
    qs = model_or_qs._default_manager.all()
    return qs.filter(store=store)


def get_for_store(
    model_or_qs: type[M] | models.QuerySet[M], store: models.Model, **lookup: object
) -> M:
    qs = scoped(model_or_qs, store)
    try:
        return qs.get(**lookup)
    except (qs.model.DoesNotExist, ValueError, TypeError):
        # ValueError/TypeError: a malformed id ("abc" for an integer key) is also just "not found".
        raise NotFound(f"{qs.model._meta.verbose_name} not found") from None
