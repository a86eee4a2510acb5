"""Derive one JSON schema per event from seed 002's examples (tests/data/seed_002_examples.json).

Run ``python -m tests.webhooks.make_schemas`` after changing the rules below; the test suite
checks that the files in ``schemas/`` are exactly what this script writes.

Rules: every key of the example is required and no other key is allowed; the JSON type is the
example's; timestamps, dates and decimal money strings must have the example's format;
integers stay integers (dispute amounts are cents). Where the seed shows ``null`` or where a
real store legitimately has no value, ``NULLABLE`` says so, with the reason.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
SEED = HERE.parent / "data" / "seed_002_examples.json"
OUT = HERE / "schemas"

TIMESTAMP = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$"
DATE = r"^\d{4}-\d{2}-\d{2}$"
MONEY = r"^-?\d+(\.\d+)?$"

# (event, dotted path) -> why it may be null.
NULLABLE: dict[tuple[str, str], str] = {
    ("order.received", "customer_phone"): "checkout does not ask for a phone number",
    ("order.received", "billing_address"): "the address is optional at checkout",
    ("order.received", "shipping_address"): "game purchases ship nothing",
    ("order.received", "gateway_payment_id"): "the sandbox gateway may not give one",
    ("subscription.created", "trial_starts_at"): "null in the seed",
    ("subscription.created", "trial_ends_at"): "null in the seed",
    ("subscription.created", "gateway_customer_id"): "not every gateway has customers",
    ("subscription.created", "gateway_plan_id"): "not every gateway has plans",
    ("subscription.payment_failed", "next_retry_at"): "no retry after the last attempt",
    ("customer.created", "country"): "the country is optional",
    ("customer.created", "country_name"): "the country is optional",
    ("customer.created", "name"): "the name is optional",
    ("customer.created", "discord_id"): "the seed shows null for unlinked accounts",
    ("customer.created", "discord_username"): "the seed shows null for unlinked accounts",
    ("customer.created", "steam_id"): "null in the seed",
    ("customer.created", "steam_username"): "null in the seed",
    ("customer.created", "referred_by_customer_id"): "null in the seed",
    ("order.refunded", "refunded_at"): "a refund still in progress has no time yet",
    ("delivery.completed", "server"): "an order may have no game server",
    ("delivery.failed", "server"): "an order may have no game server",
    ("ticket.created", "order_id"): "a ticket need not be about an order",
    ("ticket.created", "order_number"): "a ticket need not be about an order",
    ("ticket.created", "customer_id"): "guest tickets have no customer",
    ("ticket.reply", "customer_id"): "guest tickets have no customer",
    ("dispute.created", "charge_id"): "not every gateway names the charge",
    ("dispute.created", "evidence_due_by"): "not every dispute asks for evidence",
    ("dispute.created", "due_by"): "not every dispute asks for evidence",
    ("dispute.resolved", "charge_id"): "not every gateway names the charge",
    ("product.created", "description"): "the description is optional",
    ("product.created", "category"): "products need not have a category",
    ("product.created", "category_id"): "products need not have a category",
    ("product.created", "stock_quantity"): "null in the seed (stock not tracked)",
}

# Legacy names carry order.received's structure (seed 002); before payment there is no
# paid_at, so these may have it null.
LEGACY = {"purchase.completed": False, "order.created": True, "order.updated": True,
          "order.completed": False}

NULL_TYPES = {"trial_starts_at": "timestamp", "trial_ends_at": "timestamp",
              "steam_id": "string", "steam_username": "string",
              "referred_by_customer_id": "integer", "stock_quantity": "integer"}

ADDRESS = {"type": "object", "required": ["line1", "city", "state", "postal_code", "country"],
           "properties": {k: {"type": "string"} for k in
                          ("line1", "line2", "city", "state", "postal_code", "country")},
           "additionalProperties": False}


def _scalar(kind: str) -> dict[str, Any]:
    return {"type": "string", "pattern": TIMESTAMP} if kind == "timestamp" else {"type": kind}


def derive(value: Any, *, event: str, path: str, key: str) -> dict[str, Any]:
    if value is None:
        schema = _scalar(NULL_TYPES[key])
    elif key in ("billing_address", "shipping_address"):
        schema = dict(ADDRESS)
    elif key == "metadata":
        schema = {"type": "object"}
    elif key == "changes":
        schema = {"type": "object", "additionalProperties": {
            "type": "object", "required": ["old", "new"], "additionalProperties": False,
            "properties": {"old": {}, "new": {}}}}
    elif isinstance(value, bool):
        schema = {"type": "boolean"}
    elif isinstance(value, int):
        schema = {"type": "integer"}
    elif isinstance(value, float):
        schema = {"type": "number"}
    elif isinstance(value, str):
        schema = {"type": "string"}
        for pattern in (TIMESTAMP, DATE):
            if re.match(pattern, value):
                schema["pattern"] = pattern
                break
        else:
            if re.match(r"^\d+\.\d{2}$", value):
                schema["pattern"] = MONEY
    elif isinstance(value, list):
        schema = {"type": "array"}
        if value:
            schema["items"] = derive(value[0], event=event, path=path + "[]", key="")
    else:
        schema = {"type": "object", "required": list(value), "additionalProperties": False,
                  "properties": {k: derive(v, event=event, path=f"{path}.{k}".lstrip("."),
                                           key=k) for k, v in value.items()}}
    if (event, path) in NULLABLE or value is None:
        schema = {"anyOf": [schema, {"type": "null"}]}
    return schema


def envelope(event_type: str, data_schema: dict) -> dict:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"{event_type} webhook payload (seed 002)",
        "type": "object",
        "required": ["id", "event_type", "created_at", "data"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string", "pattern": "^wh_del_[A-Za-z0-9]+$"},
            "event_type": {"const": event_type},
            "created_at": {"type": "string", "pattern": TIMESTAMP},
            "data": data_schema,
            "test": {"const": True},
        },
    }


def build() -> dict[str, dict]:
    examples = json.loads(SEED.read_text())
    examples.pop("_source", None)
    schemas = {event: envelope(event, derive(data, event=event, path="", key=""))
               for event, data in examples.items()}
    for legacy, paid_at_nullable in LEGACY.items():
        data = json.loads(json.dumps(schemas["order.received"]["properties"]["data"]))
        if paid_at_nullable:
            data["properties"]["paid_at"] = {"anyOf": [data["properties"]["paid_at"],
                                                       {"type": "null"}]}
        schemas[legacy] = envelope(legacy, data)
    return schemas


def render(schema: dict) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for event, schema in build().items():
        (OUT / f"{event}.json").write_text(render(schema))


if __name__ == "__main__":
    main()
