"""Event ``data`` for customer tickets, field for field as seed 002's examples."""

from __future__ import annotations

from typing import Any

from shopkeep.core.timefmt import iso
from shopkeep.support.attachments import signed_url
from shopkeep.support.models import Message, Ticket


def ticket_created_data(ticket: Ticket, message: Message) -> dict[str, Any]:
    return {
        "ticket_id": ticket.pk,
        "subject": ticket.subject,
        "message": message.body,
        "priority": ticket.priority,
        "status": ticket.status,
        "category": ticket.category,
        "customer_id": ticket.customer_id,
        "customer_email": ticket.customer_email,
        "customer_name": ticket.customer_name,
        "order_id": ticket.order_id,
        "order_number": ticket.order.order_number if ticket.order_id else None,
        "created_at": iso(ticket.created_at),
    }


def ticket_reply_data(ticket: Ticket, message: Message) -> dict[str, Any]:
    return {
        "ticket_id": ticket.pk,
        "message_id": message.pk,
        "subject": ticket.subject,
        "message": message.body,
        "status": ticket.status,
        "customer_id": ticket.customer_id,
        "customer_email": ticket.customer_email,
        "customer_name": ticket.customer_name,
        "attachments": [
            {"filename": a.filename, "url": signed_url(a), "size": a.size}
            for a in message.attachments.all()
        ],
        "replied_at": iso(message.created_at),
    }
