"""The ``data`` of seed 002's product event examples (seeds/002, "Product Events"), copied
verbatim: the seed lives beside the repository, not in it, so the suite cannot read it."""

PRODUCT_CREATED = {
    "product_id": 103,
    "name": "Diamond Sword",
    "slug": "diamond-sword",
    "description": "A powerful diamond sword for your adventures",
    "price": "14.99",
    "currency": "USD",
    "type": "digital",
    "category": "Weapons",
    "category_id": 5,
    "is_active": True,
    "is_featured": False,
    "stock_quantity": None,
    "stock_enabled": False,
    "created_at": "2025-01-20T12:00:00.000000Z",
}

PRODUCT_UPDATED = {
    "product_id": 103,
    "name": "Diamond Sword",
    "slug": "diamond-sword",
    "price": "12.99",
    "currency": "USD",
    "is_active": True,
    "changes": {
        "price": {
            "old": "14.99",
            "new": "12.99",
        },
    },
    "updated_at": "2025-01-21T10:30:00.000000Z",
}

PRODUCT_DELETED = {
    "product_id": 103,
    "name": "Diamond Sword",
    "slug": "diamond-sword",
    "deleted_at": "2025-01-22T09:00:00.000000Z",
}
