"""Gateway registry: ``get_gateway("sandbox")``, ``get_gateway("stripe", store=store)``.

Each provider module registers itself when the payments app is ready (``apps.py``), so this
module imports none of them: the flow layer that asks for a gateway and the providers that
report back to it do not form an import cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from shopkeep.payments.gateways.base import Gateway

if TYPE_CHECKING:
    from shopkeep.stores.models import Store

_FACTORIES: dict[str, Callable[[Store | None], Gateway]] = {}


def register(name: str, factory: Callable[[Store | None], Gateway]) -> None:
    """``factory(store)`` returns the gateway; per-store providers (Stripe: each store its
    own account) raise GatewayError when ``store`` is None or has not connected them."""
    _FACTORIES[name] = factory


def get_gateway(name: str, *, store: Store | None = None) -> Gateway:
    factory = _FACTORIES.get(name)
    if factory is None:
        raise LookupError(f"unknown payment gateway {name!r}")
    return factory(store)


def available_gateways() -> list[str]:
    """Gateways with a shared callback URL (/pay/callbacks/<name>/). Stripe's are per store
    (/pay/stripe/<store id>/webhook/), because each store signs with its own secret."""
    return ["sandbox"]
