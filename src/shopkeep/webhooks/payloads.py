"""The request body of a delivery, fixed when the delivery is created."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from shopkeep.core.timefmt import iso
from shopkeep.stores.models import Store
from shopkeep.webhooks import discord


def envelope(*, delivery_id: str, event_type: str, created_at: datetime, data: dict[str, Any],
             test: bool = False) -> dict[str, Any]:
    """Seed 002's structure; test sends add ``"test": true`` beside ``data``."""
    body: dict[str, Any] = {"id": delivery_id, "event_type": event_type,
                            "created_at": iso(created_at), "data": data}
    if test:
        body["test"] = True
    return body


def dumps(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def render_body(*, fmt: str, store: Store, delivery_id: str, event_type: str,
                created_at: datetime, data: dict[str, Any], test: bool = False) -> str:
    if fmt == "discord":
        return dumps(discord.embed_payload(event_type=event_type, data=data,
                                           created_at=created_at, store_name=store.name,
                                           test=test))
    return dumps(envelope(delivery_id=delivery_id, event_type=event_type,
                          created_at=created_at, data=data, test=test))
