"""Settings > E-mails: previews of every mail, settings, own notices, outsiders."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from shopkeep.notifications.kinds import KINDS
from shopkeep.notifications.models import MemberEmailPreference, StoreEmailSettings
from shopkeep.stores.models import AuditLog, Membership, Role
from tests.commerce import make_shop
from tests.factories import add_member, owner_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return make_shop(slug="target", name="Target Store")


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _url(name, store, *args):
    return reverse(f"dashboard:{name}", args=[store.slug, *args])


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_email_previews_in_html_and_text_with_the_store_branding(store, kind):
    owner = _client(owner_of(store))
    html = owner.get(_url("email_preview", store, kind, "html"))
    assert html.status_code == 200
    assert "Target Store" in html.content.decode()
    assert "sandbox" in html["Content-Security-Policy"]
    text = owner.get(_url("email_preview", store, kind, "txt"))
    body = text.content.decode()
    assert text["Content-Type"].startswith("text/plain") and body.startswith("Subject: ")
    assert "<p>" not in body and "<table" not in body


def test_the_receipt_preview_shows_discount_gift_card_and_delivery_advice(store):
    body = _client(owner_of(store)).get(_url("email_preview", store, "receipt", "txt"))
    text = body.content.decode()
    assert "Coupon SAVE10: -2.00 USD" in text and "Paid by gift card" in text
    assert "delivered only while you are online" in text


def test_the_page_lists_every_email(store):
    html = _client(owner_of(store)).get(_url("emails", store)).content.decode()
    for kind in KINDS.values():
        assert kind.label in html


def test_store_settings_are_saved_by_an_admin_not_by_support(store):
    owner = _client(owner_of(store))
    owner.post(_url("emails_save", store), {"reply_to": "help@example.com"})
    settings_row = StoreEmailSettings.objects.get(store=store)
    assert (settings_row.buyer_receipts, settings_row.reply_to) == (False, "help@example.com")
    support = _client(add_member(store, Role.SUPPORT).user)
    assert support.post(_url("emails_save", store), {"buyer_receipts": "on"}).status_code == 403
    settings_row.refresh_from_db()
    assert settings_row.buyer_receipts is False


def test_a_member_chooses_their_own_notices(store):
    member = add_member(store, Role.SUPPORT)
    _client(member.user).post(_url("emails_mine", store), {"new_sale": "on"})
    pref = MemberEmailPreference.objects.get(membership=member)
    assert (pref.new_sale, pref.delivery_failed) == (True, False)
    owner_membership = Membership.objects.get(store=store, role=Role.OWNER)
    assert not MemberEmailPreference.objects.filter(membership=owner_membership).exists()


def test_an_unknown_kind_is_404(store):
    owner = _client(owner_of(store))
    assert owner.get(_url("email_preview", store, "nope", "html")).status_code == 404
    assert owner.get(_url("email_preview", store, "receipt", "exe")).status_code == 404


@pytest.mark.parametrize(("name", "args"), [
    ("emails", []), ("emails_save", []), ("emails_mine", []),
    ("email_preview", ["receipt", "html"]), ("email_preview", ["new_sale", "txt"])])
def test_an_outsider_gets_404_and_changes_nothing(store, name, args):
    outsider = _client(owner_of(make_shop(slug="outside")))
    before = (AuditLog.objects.count(), StoreEmailSettings.objects.count(),
              MemberEmailPreference.objects.count())
    for call in (outsider.get, outsider.post):
        response = call(_url(name, store, *args), {"buyer_receipts": "on", "new_sale": "on"})
        assert response.status_code in (404, 405)
        assert b"Target Store" not in response.content
    assert (AuditLog.objects.count(), StoreEmailSettings.objects.count(),
            MemberEmailPreference.objects.count()) == before


def test_an_owner_turns_on_basket_reminders_and_their_daily_summary(store):
    owner = _client(owner_of(store))
    owner.post(_url("emails_save", store), {"buyer_receipts": "on", "abandoned_basket": "on",
                                            "abandoned_delay_hours": "6"})
    row = StoreEmailSettings.objects.get(store=store)
    assert (row.abandoned_basket, row.abandoned_delay_hours) == (True, 6)
    bad = owner.post(_url("emails_save", store), {"abandoned_delay_hours": "500"}, follow=True)
    assert "1 to 72 hours" in bad.content.decode()
    row.refresh_from_db()
    assert row.abandoned_delay_hours == 6
    owner.post(_url("emails_mine", store), {"daily_summary": "on"})
    pref = MemberEmailPreference.objects.get(membership__store=store)
    assert pref.daily_summary and not pref.new_sale
