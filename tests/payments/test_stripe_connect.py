"""Connecting Stripe: every setup mistake of seed 000's guide is refused with a clear message
and changes nothing; the dashboard page and the store API."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from shopkeep.core.errors import ServiceError
from shopkeep.payments.gateways.stripe_events import EVENTS
from shopkeep.payments.models import StripeConnection
from shopkeep.payments.sealed import unseal
from shopkeep.payments.stripe_connect import stripe_connect, stripe_disconnect, webhook_url
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import AuditLog
from tests.commerce import make_product, make_shop, place_order
from tests.factories import make_token, owner_of
from tests.payments.conftest import LIVE_KEY, TEST_KEY, WHSEC, connect, post_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def store(fake_stripe):
    return make_shop()


def _connect(store, key=TEST_KEY, secret=WHSEC):
    return stripe_connect(store=store, actor=Actor.for_user(owner_of(store)), secret_key=key,
                          webhook_secret=secret)


def _account(fake, store, key=TEST_KEY, **kwargs):
    kwargs.setdefault("webhook_url", webhook_url(store))
    kwargs.setdefault("events", list(EVENTS))
    return fake.add_account(key, **kwargs)


def _refused(store, match, **kwargs):
    with pytest.raises(ServiceError, match=match) as info:
        _connect(store, **kwargs)
    assert not StripeConnection.objects.exists()
    assert not AuditLog.objects.filter(action__startswith="payments.").exists()
    return info.value


def test_keys_pasted_with_surrounding_spaces_are_trimmed(fake_stripe, store):
    _account(fake_stripe, store)
    connection = _connect(store, key=f"  {TEST_KEY}\n", secret=f"\t{WHSEC} ")
    assert unseal(connection.secret_key_sealed,
                  context=connection.seal_context("secret_key")) == TEST_KEY
    assert connection.livemode is False and connection.secret_key_last4 == TEST_KEY[-4:]


@pytest.mark.parametrize(("key", "message"), [
    ("", "Paste your Stripe secret key"),
    (TEST_KEY[:20] + " " + TEST_KEY[20:], "space or line break inside"),
    ("pk_test_51FakePublishableKey000000", "publishable key"),
    ("rk_live_51FakeRestrictedKey0000000", "Restricted keys"),
    (WHSEC, "webhook signing secret"),
    ("sk_test_short", "starts with sk_live_ or sk_test_"),
    ("sk_prod_51FakeKey00000000000000000", "starts with sk_live_ or sk_test_"),
])
def test_a_key_of_the_wrong_shape_is_refused_before_calling_stripe(fake_stripe, store, key,
                                                                   message):
    error = _refused(store, message, key=key)
    assert error.field == "secret_key"
    assert fake_stripe.requests == []


@pytest.mark.parametrize("secret", ["", "whsec_", "sec_abcdefghijklmnop", "whsec_abc def12345"])
def test_a_webhook_secret_of_the_wrong_shape_is_refused(fake_stripe, store, secret):
    assert _refused(store, "signing secret", secret=secret).field == "webhook_secret"
    assert fake_stripe.requests == []


def test_a_test_key_on_a_live_store_is_refused(fake_stripe, store):
    store.test_mode = False
    store.save(update_fields=["test_mode"])
    _account(fake_stripe, store)
    _refused(store, "test key .* the store is live")
    assert fake_stripe.requests == []


def test_a_live_key_on_a_live_store_connects(fake_stripe, store):
    store.test_mode = False
    store.save(update_fields=["test_mode"])
    _account(fake_stripe, store, key=LIVE_KEY)
    assert _connect(store, key=LIVE_KEY).livemode is True
    assert place_order(store, make_product(store)).payment_gateway == "stripe"


def test_a_key_stripe_does_not_know_is_unable_to_verify(fake_stripe, store):
    error = _refused(store, "^Unable to verify account: Invalid API Key provided")
    assert TEST_KEY not in error.message and TEST_KEY[-4:] in error.message


def test_a_live_account_stripe_has_not_verified_is_refused(fake_stripe, store):
    _account(fake_stripe, store, key=LIVE_KEY, charges_enabled=False)
    _refused(store, "^Unable to verify account: Stripe has not enabled payments", key=LIVE_KEY)


def test_stripe_unreachable_is_unable_to_verify(fake_stripe, store, settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens on the discard port
    _refused(store, "^Unable to verify account: Stripe could not be reached")


def test_no_webhook_endpoint_for_this_store_is_refused(fake_stripe, store):
    _account(fake_stripe, store, webhook_url="https://shop.example.com/pay/stripe/other/webhook/")
    error = _refused(store, "No webhook endpoint .* points to " + webhook_url(store))
    assert error.code == "webhook_missing"


def test_a_webhook_endpoint_missing_events_is_refused_naming_them(fake_stripe, store):
    _account(fake_stripe, store, events=[e for e in EVENTS if not e.startswith("charge.")])
    _refused(store, "charge.refunded, charge.dispute.created, charge.dispute.closed")


def test_a_disabled_webhook_endpoint_is_refused(fake_stripe, store):
    _account(fake_stripe, store, endpoint_status="disabled")
    _refused(store, "disabled")


def test_an_endpoint_sending_all_events_is_accepted(fake_stripe, store):
    _account(fake_stripe, store, events=["*"])
    assert _connect(store).account_id.startswith("acct_")


def test_a_support_member_cannot_connect(fake_stripe, store):
    from tests.factories import add_member

    _account(fake_stripe, store)
    member = add_member(store)
    with pytest.raises(ServiceError):
        stripe_connect(store=store, actor=Actor.for_user(member.user), secret_key=TEST_KEY,
                       webhook_secret=WHSEC)
    assert not StripeConnection.objects.exists()


def test_secrets_are_stored_sealed_and_bound_to_their_row(fake_stripe, store):
    from shopkeep.payments.sealed import SealError

    connection = connect(store, fake_stripe)
    assert TEST_KEY not in connection.secret_key_sealed
    assert WHSEC not in connection.webhook_secret_sealed
    with pytest.raises(SealError):  # swapped fields do not open
        unseal(connection.webhook_secret_sealed, context=connection.seal_context("secret_key"))


def test_rotation_reencrypts_with_the_new_key_and_keeps_working(client, fake_stripe, store,
                                                               settings):
    import base64

    old = base64.urlsafe_b64encode(b"o" * 32).decode()
    new = base64.urlsafe_b64encode(b"n" * 32).decode()
    settings.PAYMENT_ENCRYPTION_KEYS = [old]
    connect(store, fake_stripe)
    before = StripeConnection.objects.get(store=store).secret_key_sealed
    settings.PAYMENT_ENCRYPTION_KEYS = [new, old]
    call_command("reencrypt_payment_secrets")
    after = StripeConnection.objects.get(store=store)
    assert after.secret_key_sealed != before
    settings.PAYMENT_ENCRYPTION_KEYS = [new]  # the old key can go now
    assert unseal(after.secret_key_sealed, context=after.seal_context("secret_key")) == TEST_KEY
    order = place_order(store, make_product(store))
    completed, _ = fake_stripe.complete_session(order.gateway_session_id)
    assert post_event(client, store, completed).status_code == 200


def test_disconnect_is_refused_while_stripe_subscriptions_are_live(client, fake_stripe, store):
    connect(store, fake_stripe)
    order = place_order(store, make_product(store, type="subscription",
                                            billing_interval="month"))
    _, first_invoice = fake_stripe.complete_session(order.gateway_session_id)
    post_event(client, store, first_invoice)
    with pytest.raises(ServiceError, match="subscription"):
        stripe_disconnect(store=store, actor=Actor.for_user(owner_of(store)))
    assert StripeConnection.objects.filter(store=store).exists()


# -- the dashboard page -------------------------------------------------------------------

def _page(store):
    return f"/dashboard/{store.slug}/settings/payments/"


def test_the_page_shows_the_webhook_url_and_events_to_select(client, fake_stripe, store):
    client.force_login(owner_of(store))
    page = client.get(_page(store)).content.decode()
    assert webhook_url(store) in page
    assert all(event in page for event in EVENTS)
    assert "Not connected" in page


def test_connecting_from_the_page_then_the_first_event_shows(client, fake_stripe, store):
    _account(fake_stripe, store)
    client.force_login(owner_of(store))
    response = client.post(_page(store), {"secret_key": TEST_KEY, "webhook_secret": WHSEC})
    assert response.status_code == 302
    page = client.get(_page(store)).content.decode()
    assert "no signed event yet" in page and f"sk_test_…{TEST_KEY[-4:]}" in page
    post_event(client, store, fake_stripe.event("ping.test", {"id": "x", "object": "x"}))
    assert "webhook working" in client.get(_page(store)).content.decode()


def test_a_refused_key_is_shown_as_a_message_and_never_echoed(client, fake_stripe, store):
    client.force_login(owner_of(store))
    response = client.post(_page(store), {"secret_key": TEST_KEY, "webhook_secret": WHSEC})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Unable to verify account" in page
    assert TEST_KEY not in page and WHSEC not in page


def test_a_bad_signature_shows_on_the_page(client, fake_stripe, store):
    connect(store, fake_stripe)
    post_event(client, store, fake_stripe.event("ping.test", {"id": "x", "object": "x"}),
               secret="whsec_NotTheRightSecret000000000")
    client.force_login(owner_of(store))
    assert "failed the signature check" in client.get(_page(store)).content.decode()


def test_disconnect_from_the_page(client, fake_stripe, store):
    connect(store, fake_stripe)
    client.force_login(owner_of(store))
    client.post(f"/dashboard/{store.slug}/settings/payments/disconnect/")
    assert not StripeConnection.objects.filter(store=store).exists()


def test_an_outsider_gets_404_on_the_page_and_changes_nothing(client, fake_stripe, store):
    connect(store, fake_stripe)
    outsider = make_shop()
    client.force_login(owner_of(outsider))
    assert client.get(_page(store)).status_code == 404
    assert client.post(_page(store), {"secret_key": TEST_KEY,
                                      "webhook_secret": WHSEC}).status_code == 404
    assert client.post(f"/dashboard/{store.slug}/settings/payments/disconnect/"
                       ).status_code == 404
    assert StripeConnection.objects.filter(store=store).exists()


def test_a_missing_and_a_foreign_store_answer_alike(client, fake_stripe, store):
    client.force_login(owner_of(make_shop()))
    foreign = client.get(_page(store))
    missing = client.get("/dashboard/no-such-store/settings/payments/")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.content == missing.content


def test_a_support_member_gets_403_on_the_page(client, fake_stripe, store):
    from tests.factories import add_member

    client.force_login(add_member(store).user)
    assert client.get(_page(store)).status_code == 403
    assert client.post(_page(store), {"secret_key": TEST_KEY,
                                      "webhook_secret": WHSEC}).status_code == 403
    assert fake_stripe.requests == []


# -- the store API ------------------------------------------------------------------------

def _auth(store, scopes):
    _, raw = make_token(store, scopes)
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_the_api_connects_shows_and_disconnects(client, fake_stripe, store):
    _account(fake_stripe, store)
    headers = _auth(store, ["store:read", "store:write"])
    body = {"secret_key": f" {TEST_KEY} ", "webhook_secret": WHSEC}
    response = client.put("/api/v1/payments/stripe", body, content_type="application/json",
                          **headers)
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["connected"] and data["mode"] == "test"
    assert data["secret_key_hint"] == f"sk_test_…{TEST_KEY[-4:]}"
    assert data["webhook_url"] == webhook_url(store) and data["first_event_at"] is None
    assert TEST_KEY not in response.content.decode() and WHSEC not in response.content.decode()
    assert client.get("/api/v1/payments/stripe", **headers).json()["account_id"].startswith(
        "acct_")
    assert client.delete("/api/v1/payments/stripe", **headers).json()["connected"] is False


def test_the_api_answers_a_refused_key_with_a_json_error(client, fake_stripe, store):
    headers = _auth(store, ["store:write"])
    response = client.put("/api/v1/payments/stripe",
                          {"secret_key": "pk_live_abcdefghijklmnop", "webhook_secret": WHSEC},
                          content_type="application/json", **headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_key"
    assert not StripeConnection.objects.exists()


def test_the_api_needs_the_write_scope_to_connect(client, fake_stripe, store):
    headers = _auth(store, ["store:read"])
    response = client.put("/api/v1/payments/stripe",
                          {"secret_key": TEST_KEY, "webhook_secret": WHSEC},
                          content_type="application/json", **headers)
    assert response.status_code == 403
    assert fake_stripe.requests == []


def test_another_stores_token_sees_only_its_own_connection(client, fake_stripe, store):
    connect(store, fake_stripe)
    outsider = make_shop()
    headers = _auth(outsider, ["store:read", "store:write"])
    assert client.get("/api/v1/payments/stripe", **headers).json()["connected"] is False
    assert client.delete("/api/v1/payments/stripe", **headers).status_code == 409
    assert StripeConnection.objects.filter(store=store).exists()


def test_going_live_with_a_test_key_connected_is_refused(client, fake_stripe, store):
    connect(store, fake_stripe)
    client.force_login(owner_of(store))
    form = {"name": store.name, "currency": store.currency, "time_zone": store.time_zone,
            "game": store.game}  # test_mode left out: unticked
    page = client.post(f"/dashboard/{store.slug}/settings/", form)
    assert "Connect your live key" in page.content.decode()
    store.refresh_from_db()
    assert store.test_mode is True


def test_going_live_with_a_live_key_connected_is_allowed(client, fake_stripe, store):
    connect(store, fake_stripe, key=LIVE_KEY)
    client.force_login(owner_of(store))
    form = {"name": store.name, "currency": store.currency, "time_zone": store.time_zone,
            "game": store.game}
    assert client.post(f"/dashboard/{store.slug}/settings/", form).status_code == 302
    store.refresh_from_db()
    assert store.test_mode is False
