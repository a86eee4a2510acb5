"""Gateway registry: ``get_gateway("sandbox")``, ``get_gateway("stripe", store=store)``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shopkeep.payments.gateways.base import Gateway

if TYPE_CHECKING:
    from shopkeep.stores.models import Store


def get_gateway(name: str, *, store: Store | None = None) -> Gateway:
    """The gateway ``name``; per-store providers (Stripe: each store its own account) need
    ``store`` and raise GatewayError when the store has not connected them."""
    if name == "sandbox":
        from shopkeep.payments.gateways.sandbox import SandboxGateway

        return SandboxGateway()
    if name == "stripe":
        from shopkeep.payments.gateways.base import GatewayError
        from shopkeep.payments.gateways.stripe import StripeGateway

        if store is None:
            raise GatewayError("store_required", "Stripe calls are made for one store.")
        return StripeGateway.for_store(store)
    raise LookupError(f"unknown payment gateway {name!r}")


def available_gateways() -> list[str]:
    """Gateways with a shared callback URL (/pay/callbacks/<name>/). Stripe's are per store
    (/pay/stripe/<store id>/webhook/), because each store signs with its own secret."""
    return ["sandbox"]
