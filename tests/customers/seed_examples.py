"""The ``data`` of seed 002's customer.created example (seeds/002, "Customer Events"), copied
verbatim: the seed lives beside the repository, not in it, so the suite cannot read it."""

CUSTOMER_CREATED = {
    "id": 456,
    "tenant_id": "store_abc123",
    "email": "player@example.com",
    "name": "John Doe",
    "country": "US",
    "country_name": "United States",
    "discord_id": "123456789012345678",
    "discord_username": "player#1234",
    "steam_id": None,
    "steam_username": None,
    "referral_code": "PLAYER123",
    "referred_by_customer_id": None,
    "created_at": "2025-01-20T14:30:00.000000Z",
}
