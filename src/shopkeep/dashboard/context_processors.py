from __future__ import annotations

from django.http import HttpRequest

from shopkeep.dashboard.nav import sections_for
from shopkeep.stores.selectors import memberships_for_user


def dashboard(request: HttpRequest) -> dict:
    membership = getattr(request, "membership", None)
    if membership is None or not request.user.is_authenticated:
        return {}
    return {
        "store": membership.store,
        "membership": membership,
        "nav_sections": sections_for(membership.role),
        "my_memberships": memberships_for_user(user=request.user),
    }
