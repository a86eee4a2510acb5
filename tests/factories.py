"""Small builders for test data; each returns saved rows."""

from __future__ import annotations

import itertools

from allauth.account.models import EmailAddress

from shopkeep.accounts.models import User
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import Membership, Role, Store
from shopkeep.stores.services import store_create, token_create

PASSWORD = "correct-horse-battery"
_seq = itertools.count(1)


def make_user(email: str | None = None, *, is_staff: bool = False) -> User:
    email = email or f"user{next(_seq)}@example.com"
    user = User.objects.create_user(email=email, password=PASSWORD, is_staff=is_staff)
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    return user


def make_store(owner: User | None = None, *, slug: str | None = None, name: str = "Test Store",
               currency: str = "USD") -> Store:
    owner = owner or make_user()
    return store_create(owner=owner, name=name, slug=slug or f"store-{next(_seq)}",
                        currency=currency)


def add_member(store: Store, role: str = Role.SUPPORT, user: User | None = None) -> Membership:
    user = user or make_user()
    return Membership.objects.create(store=store, user=user, role=role)


def owner_of(store: Store) -> User:
    return Membership.objects.filter(store=store, role=Role.OWNER).first().user


def make_token(store: Store, scopes: list[str], *, name: str = "test token") -> tuple:
    return token_create(store=store, actor=Actor.for_user(owner_of(store)), name=name,
                        scopes=scopes)
