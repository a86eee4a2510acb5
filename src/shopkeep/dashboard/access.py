"""Resolve the store from the URL once per request and enforce the role matrix."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from shopkeep.stores.permissions import Perm, role_has
from shopkeep.stores.selectors import membership_for_slug


def store_zone(store) -> ZoneInfo:
    try:
        return ZoneInfo(store.time_zone)
    except Exception:  # a zone removed from tzdata since it was chosen
        return ZoneInfo("UTC")


def store_view(perm: Perm) -> Callable:
    """Sets ``request.store`` and ``request.membership``.

    Not a member: 404, the same page as a store that does not exist. A member whose role
    lacks ``perm``: 403.
    """

    def decorator(view: Callable) -> Callable:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, store_slug: str, *args, **kwargs) -> HttpResponse:
            membership = membership_for_slug(user=request.user, slug=store_slug)
            if not role_has(membership.role, perm):
                raise PermissionDenied
            request.store = membership.store
            request.membership = membership
            request.session["shopkeep_store"] = membership.store.slug
            # Every time on a store's pages is in the store's zone (|date included), so no
            # page can show UTC by forgetting a filter.
            with timezone.override(store_zone(membership.store)):
                return view(request, *args, **kwargs)

        return wrapper

    return decorator
