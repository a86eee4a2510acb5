"""What a Discord or Steam sign-in leaves in the browser session, per store."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib import messages
from django.http import HttpRequest

from shopkeep.catalog.models import Product
from shopkeep.catalog.selectors import required_signins
from shopkeep.core.errors import ServiceError
from shopkeep.customers.models import Customer
from shopkeep.customers.services import customer_link
from shopkeep.signin.config import checkout_required, providers_offered
from shopkeep.signin.models import Provider
from shopkeep.stores.models import Store

VERIFIED_KEY = "signin_verified_{}"
BINDING_KEY = "signin_binding_{}"
LABELS = dict(Provider.choices)


def verified_identities(request: HttpRequest, store: Store) -> dict[str, dict[str, str]]:
    """Provider -> {"id", "username"} proved in this browser session for this store."""
    raw = request.session.get(VERIFIED_KEY.format(store.pk)) or {}
    return {p: v for p, v in raw.items() if p in LABELS and isinstance(v, dict) and v.get("id")}


def remember_identities(request: HttpRequest, store: Store,
                        identities: dict[str, dict[str, str]]) -> None:
    request.session[VERIFIED_KEY.format(store.pk)] = identities


def forget_identities(request: HttpRequest, store: Store) -> None:
    request.session.pop(VERIFIED_KEY.format(store.pk), None)


def link_pending(request: HttpRequest, store: Store, customer: Customer) -> None:
    """After an e-mail sign-in: the ids proved earlier in this session join the account
    (the e-mail link proved the address, the provider proved the id)."""
    for provider, identity in verified_identities(request, store).items():
        if getattr(customer, f"{provider}_linked_at") is not None:
            continue
        try:
            customer_link(store=store, customer=customer, provider=provider,
                          uid=identity["id"], username=identity.get("username", ""))
        except ServiceError as exc:
            messages.warning(request, exc.message)


@dataclass
class CheckoutSignin:
    offered: list[str]
    verified: dict[str, dict[str, str]]
    required: frozenset[str]
    missing: list[str]
    next: str
    reasons: dict[str, list[str]] = field(default_factory=dict)

    @property
    def missing_message(self) -> str:
        parts = []
        for provider in self.missing:
            names = self.reasons.get(provider) or ["this store"]
            parts.append(f"{', '.join(names)} needs you to sign in with {LABELS[provider]}")
        return "; ".join(parts) + ": use the button above, then continue."

    @property
    def needs(self) -> list[tuple[str, str, str]]:
        """(provider, label, what needs it) for each sign-in still missing."""
        return [(p, LABELS[p], ", ".join(self.reasons.get(p) or []) or "This store")
                for p in self.missing]

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(provider, label) of the sign-ins offered and not yet done, required ones first."""
        todo = [p for p in self.offered if p not in self.verified]
        todo.sort(key=lambda p: p not in self.required)
        return [(p, LABELS[p]) for p in todo]


def checkout_signin(request: HttpRequest, store: Store,
                    products: Iterable[Product]) -> CheckoutSignin:
    products = list(products)
    verified = verified_identities(request, store)
    required = checkout_required(store, products)
    reasons = {p: [product.name for product in products if p in required_signins(product)]
               for p in required}
    path = request.path
    return CheckoutSignin(offered=providers_offered(store), verified=verified,
                          required=required,
                          missing=sorted(p for p in required if p not in verified),
                          next=path, reasons=reasons)
