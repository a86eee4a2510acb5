"""The role permission matrix and the API token scopes.

| permission          | owner | admin | support |
|---------------------|:-----:|:-----:|:-------:|
| store.view          |   x   |   x   |    x    |
| store.settings      |   x   |   x   |         |
| members.manage      |   x   |   x*  |         |
| owners.manage       |   x   |       |         |
| tokens.manage       |   x   |   x   |         |
| audit.view          |   x   |   x   |         |
| catalog.view        |   x   |   x   |    x    |
| catalog.manage      |   x   |   x   |         |
| orders.view         |   x   |   x   |    x    |
| orders.refund       |   x   |   x   |         |
| customers.view      |   x   |   x   |    x    |
| customers.manage    |   x   |   x   |         |
| servers.manage      |   x   |   x   |         |
| webhooks.manage     |   x   |   x   |         |
| tickets.reply       |   x   |   x   |    x    |
| platform_support    |   x   |   x   |         |

(*) admins manage admins and support members; only owners add, change or remove owners.
``docs/permissions.md`` carries the same table; ``tests/stores/test_permissions_doc.py`` checks
that the two agree.
"""

from __future__ import annotations

from enum import StrEnum

from shopkeep.stores.models import Role


class Perm(StrEnum):
    STORE_VIEW = "store.view"
    STORE_SETTINGS = "store.settings"
    MEMBERS_MANAGE = "members.manage"
    OWNERS_MANAGE = "owners.manage"
    TOKENS_MANAGE = "tokens.manage"
    AUDIT_VIEW = "audit.view"
    CATALOG_VIEW = "catalog.view"
    CATALOG_MANAGE = "catalog.manage"
    ORDERS_VIEW = "orders.view"
    ORDERS_REFUND = "orders.refund"
    CUSTOMERS_VIEW = "customers.view"
    CUSTOMERS_MANAGE = "customers.manage"
    SERVERS_MANAGE = "servers.manage"
    WEBHOOKS_MANAGE = "webhooks.manage"
    TICKETS_REPLY = "tickets.reply"
    PLATFORM_SUPPORT = "platform_support"


_SUPPORT = frozenset({
    Perm.STORE_VIEW, Perm.CATALOG_VIEW, Perm.ORDERS_VIEW, Perm.CUSTOMERS_VIEW,
    Perm.TICKETS_REPLY,
})
_ADMIN = frozenset(Perm) - {Perm.OWNERS_MANAGE}
_OWNER = frozenset(Perm)

ROLE_PERMISSIONS: dict[str, frozenset[Perm]] = {
    Role.OWNER: _OWNER,
    Role.ADMIN: _ADMIN,
    Role.SUPPORT: _SUPPORT,
}


def role_has(role: str, perm: Perm) -> bool:
    return perm in ROLE_PERMISSIONS.get(role, frozenset())


# API token scopes: "<resource>:<read|write>"; write implies read of the same resource.
SCOPES: dict[str, str] = {
    "store:read": "Read the store's profile",
    "store:write": "Change the store's settings",
    "tokens:read": "List API tokens",
    "tokens:write": "Create and revoke API tokens (only with scopes the token itself holds)",
    "products:read": "Read products and categories",
    "products:write": "Create, change and delete products and categories",
    "customers:read": "Read customers",
    "customers:write": "Change customers",
    "orders:read": "Read orders, refunds and disputes",
    "orders:write": "Refund orders",
    "subscriptions:read": "Read subscriptions",
    "subscriptions:write": "Cancel subscriptions",
    "servers:read": "Read game servers and their delivery queue",
    "servers:write": "Add, change and remove game servers; retry deliveries",
    "webhooks:read": "Read webhook endpoints and deliveries",
    "webhooks:write": "Manage webhook endpoints, send tests and redeliver",
    "promotions:read": "Read coupons, sales, gift cards (balances, ledgers) and tier groups",
    "promotions:write": "Manage coupons, sales and tier groups; issue and adjust gift cards",
    "tickets:read": "Read support tickets",
    "tickets:write": "Reply to and change support tickets",
}


def token_allows(scopes: list[str], needed: str) -> bool:
    if needed in scopes:
        return True
    resource, _, level = needed.partition(":")
    return level == "read" and f"{resource}:write" in scopes
