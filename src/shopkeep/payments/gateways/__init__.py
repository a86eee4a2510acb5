"""Gateway registry: ``get_gateway("sandbox")``."""

from __future__ import annotations

from shopkeep.payments.gateways.base import Gateway


def get_gateway(name: str) -> Gateway:
    if name == "sandbox":
        from shopkeep.payments.gateways.sandbox import SandboxGateway

        return SandboxGateway()
    raise LookupError(f"unknown payment gateway {name!r}")


def available_gateways() -> list[str]:
    return ["sandbox"]
