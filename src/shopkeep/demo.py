"""The demo store that ``make run`` seeds. Idempotent: running it again refreshes passwords."""

from __future__ import annotations

import secrets

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import transaction

from shopkeep.accounts.models import User
from shopkeep.stores.models import Membership, Role, Store
from shopkeep.stores.services import store_create

DEMO_OWNER = "owner@demo.shopkeep.test"
DEMO_STAFF = "staff@demo.shopkeep.test"
DEMO_SLUG = "demo"


def _ensure_user(email: str, *, is_staff: bool) -> tuple[User, str]:
    password = secrets.token_urlsafe(12)
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=password, is_staff=is_staff)
    else:
        user.set_password(password)
        user.is_staff = is_staff
        user.is_active = True
        user.save()
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True})
    return user, password


@transaction.atomic
def demo_seed() -> dict[str, str]:
    owner, owner_password = _ensure_user(DEMO_OWNER, is_staff=False)
    _, staff_password = _ensure_user(DEMO_STAFF, is_staff=True)
    store = Store.objects.filter(slug=DEMO_SLUG).first()
    if store is None:
        store = store_create(owner=owner, name="Demo Craft", slug=DEMO_SLUG, currency="USD",
                             time_zone="America/New_York")
    else:
        Membership.objects.get_or_create(store=store, user=owner, defaults={"role": Role.OWNER})
    return {
        "store_url": f"{settings.SITE_URL}/dashboard/{store.slug}/",
        "owner_email": DEMO_OWNER,
        "owner_password": owner_password,
        "staff_email": DEMO_STAFF,
        "staff_password": staff_password,
    }
