"""Support fixtures: a store with its owner, a support member, an outsider store, platform
staff, a customer with an order, and a settable clock for SLA and auto-close tests."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from shopkeep.stores.audit import Actor
from shopkeep.stores.models import Role, Store
from shopkeep.support.services import customer_ticket_create, platform_ticket_create
from tests.factories import add_member, make_store, make_user, owner_of
from tests.images import image_bytes

PNG = image_bytes("PNG")  # a real image: the header is parsed


@pytest.fixture
def store() -> Store:
    return make_store(slug="shop", name="Block Party")


@pytest.fixture
def owner(store):
    return owner_of(store)


@pytest.fixture
def support_member(store):
    return add_member(store, Role.SUPPORT).user


@pytest.fixture
def outsider_store() -> Store:
    return make_store(slug="elsewhere", name="Elsewhere")


@pytest.fixture
def outsider(outsider_store):
    return owner_of(outsider_store)


@pytest.fixture
def staff():
    return make_user("ops@shopkeep.example", is_staff=True)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


class Clock:
    def __init__(self) -> None:
        self.now = timezone.now()

    def set(self, value: datetime) -> None:
        self.now = value

    def advance(self, **kwargs) -> None:
        from datetime import timedelta

        self.now = self.now + timedelta(**kwargs)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """Services read ``timezone.now()``; this makes it a value the test sets."""
    state = Clock()
    monkeypatch.setattr(timezone, "now", lambda: state.now)
    return state


def png(name: str = "screenshot.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def new_platform_ticket(store: Store, user=None, **overrides):
    data = {"subject": "Stripe webhook returning 404 error", "category": "technical",
            "priority": "high", "description": "Our Stripe webhooks stopped working."}
    data.update(overrides)
    return platform_ticket_create(store=store, actor=Actor.for_user(user or owner_of(store)),
                                  **data)


def new_customer_ticket(store: Store, **overrides):
    data = {"email": "player@example.com", "name": "John Doe", "subject": "Order not delivered",
            "message": "I purchased VIP rank but haven't received it yet.",
            "category": "orders", "priority": "normal"}
    data.update(overrides)
    return customer_ticket_create(store=store, actor=Actor.system("customer"), **data)


def ensure_guides() -> None:
    """Transactional tests flush every table, data migrations' rows included; tests that run
    after one and need the seeded knowledge base put it back with the migration's own code."""
    from importlib import import_module

    from django.apps import apps

    import_module("shopkeep.support.migrations.0002_seed_guides").seed(apps, None)
    import_module("shopkeep.support.migrations.0003_guides_only_what_exists").rewrite(apps, None)


def run_worker() -> None:
    """Run queued tasks (the e-mails) with the real worker command; needs
    django_db(transaction=True) on PostgreSQL."""
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
