"""Event ``data`` for delivery events, field for field as seed 002's examples."""

from __future__ import annotations

from typing import Any

from shopkeep.core.timefmt import iso
from shopkeep.orders.models import Order, OrderItem


def _server(server) -> dict[str, Any] | None:
    return None if server is None else {"id": server.pk, "name": server.name}


def completed_data(order: Order, items: list[OrderItem], *, delivery_type: str, server,
                   completed_at) -> dict[str, Any]:
    return {
        "order_id": order.pk,
        "order_number": order.order_number,
        "customer_email": order.customer_email,
        "customer_name": order.customer_name,
        "delivery_type": delivery_type,
        "items": [{"product_id": item.product_id, "product_name": item.product_name,
                   "quantity": item.quantity, "delivery_status": item.delivery_status,
                   "delivered_at": iso(item.delivered_at)} for item in items],
        "server": _server(server),
        "completed_at": iso(completed_at),
    }


def failed_data(order: Order, items: list[OrderItem], *, error: str, error_code: str,
                attempt_count: int, server, failed_at,
                delivery_type: str = "rcon") -> dict[str, Any]:
    return {
        "order_id": order.pk,
        "order_number": order.order_number,
        "customer_email": order.customer_email,
        "customer_name": order.customer_name,
        "delivery_type": delivery_type,
        "items": [{"product_id": item.product_id, "product_name": item.product_name,
                   "quantity": item.quantity, "delivery_status": item.delivery_status}
                  for item in items],
        "error": error,
        "error_code": error_code,
        "attempt_count": attempt_count,
        "server": _server(server),
        "failed_at": iso(failed_at),
    }
