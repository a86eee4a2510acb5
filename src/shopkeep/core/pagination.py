from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from ninja import Field, Schema
from ninja.pagination import PaginationBase


class PageMeta(Schema):
    page: int
    per_page: int
    total: int
    has_more: bool


class PagePagination(PaginationBase):
    """``?page=1&per_page=50`` (at most 100 a page): ``{"items": [...], "meta": {...}}``."""

    class Input(Schema):
        page: int = Field(1, ge=1, le=100_000)
        per_page: int = Field(50, ge=1, le=100)

    class Output(Schema):
        items: list[Any]
        meta: PageMeta

    items_attribute = "items"

    def paginate_queryset(self, queryset: QuerySet, pagination: Input, **params: Any) -> dict:
        offset = (pagination.page - 1) * pagination.per_page
        total = queryset.count()
        items = list(queryset[offset: offset + pagination.per_page])
        return {
            "items": items,
            "meta": {"page": pagination.page, "per_page": pagination.per_page, "total": total,
                     "has_more": offset + len(items) < total},
        }
