from __future__ import annotations

from typing import Any

import pycountry

from shopkeep.core.timefmt import iso
from shopkeep.customers.models import Customer


def country_name(code: str) -> str | None:
    country = pycountry.countries.get(alpha_2=code) if code else None
    return country.name if country else None


def customer_created_data(customer: Customer) -> dict[str, Any]:
    return {
        "id": customer.pk,
        "tenant_id": customer.store.public_id,
        "email": customer.email,
        "name": customer.name,
        "country": customer.country or None,
        "country_name": country_name(customer.country),
        "discord_id": customer.discord_id or None,
        "discord_username": customer.discord_username or None,
        "steam_id": customer.steam_id or None,
        "steam_username": customer.steam_username or None,
        "referral_code": customer.referral_code,
        "referred_by_customer_id": customer.referred_by_id,
        "created_at": iso(customer.created_at),
    }
