from __future__ import annotations

from allauth.account.models import EmailAddress
from django.db import transaction

from shopkeep.accounts.models import User


@transaction.atomic
def user_create(*, email: str, password: str, name: str = "", is_staff: bool = False,
                email_verified: bool = False) -> User:
    """Create a user outside the sign-up flow (CLI, demo), with allauth's e-mail record."""
    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValueError(f"a user with e-mail {email} already exists")
    user = User.objects.create_user(email=email, password=password, name=name,
                                    is_staff=is_staff)
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=email_verified)
    return user
