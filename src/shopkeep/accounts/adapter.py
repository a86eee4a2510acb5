"""allauth hooks: where people land after signing in."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest
from django.urls import reverse


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request: HttpRequest) -> str:
        # Platform staff work from the staff console; a ?next= still wins (allauth checks it
        # before asking the adapter).
        if request.user.is_authenticated and request.user.is_staff:
            return reverse("staff:store_list")
        return super().get_login_redirect_url(request)
