"""Dashboard navigation. Sections whose issue has not landed yet have no URL name and are
shown greyed out, so nobody lands on an empty page that pretends to work."""

from __future__ import annotations

from dataclasses import dataclass

from shopkeep.stores.permissions import Perm, role_has


@dataclass(frozen=True)
class Section:
    label: str
    url_name: str | None
    perm: Perm
    pending_note: str = ""


SECTIONS: tuple[Section, ...] = (
    Section("Overview", "dashboard:overview", Perm.STORE_VIEW),
    Section("Analytics", "dashboard:analytics", Perm.ORDERS_VIEW),
    Section("Products", "dashboard:products", Perm.CATALOG_VIEW),
    Section("Servers", "dashboard:servers", Perm.SERVERS_MANAGE),
    Section("Orders", "dashboard:orders", Perm.ORDERS_VIEW),
    Section("Subscriptions", "dashboard:subscriptions", Perm.ORDERS_VIEW),
    Section("Customers", "dashboard:customers", Perm.CUSTOMERS_VIEW),
    Section("Exports", "dashboard:exports", Perm.ORDERS_VIEW),
    Section("Storefront", "dashboard:storefront", Perm.STORE_SETTINGS),
    Section("Promotions", "dashboard:coupons", Perm.CATALOG_VIEW),
    Section("Webhooks", "dashboard:webhooks", Perm.WEBHOOKS_MANAGE),
    Section("Support", "dashboard:support", Perm.TICKETS_REPLY),
    Section("Platform Support", "dashboard:platform_support", Perm.PLATFORM_SUPPORT),
    Section("Settings", "dashboard:settings", Perm.STORE_SETTINGS),
)


def sections_for(role: str) -> list[Section]:
    return [section for section in SECTIONS if role_has(role, section.perm)]
