"""Store approval: test payments at once, live payments after staff approval (requested by
the owner, approved or rejected with a reason, e-mailed, audited), off for self-hosting."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from shopkeep.core.errors import ServiceError
from shopkeep.stores.approval import store_approve, store_reject, store_request_approval
from shopkeep.stores.audit import Actor
from shopkeep.stores.models import AuditLog, LiveApproval, Store
from shopkeep.stores.services import store_update_settings
from tests.factories import make_store, make_user, owner_of
from tests.platform.tasks_helper import run_queued_tasks

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _approval_on(settings):
    settings.SHOPKEEP_STORE_APPROVAL = True


def _go_live(store: Store) -> Store:
    return store_update_settings(store=store, actor=Actor.for_user(owner_of(store)),
                                 name=store.name, currency=store.currency,
                                 time_zone=store.time_zone, test_mode=False, game=store.game)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_new_store_cannot_leave_test_mode_before_approval():
    store = make_store()
    with pytest.raises(ServiceError) as refused:
        _go_live(store)
    assert refused.value.code == "approval_required"
    assert Store.objects.get(pk=store.pk).test_mode is True


def test_without_the_setting_stores_go_live_without_approval(settings):
    settings.SHOPKEEP_STORE_APPROVAL = False
    store = make_store()
    assert _go_live(store).test_mode is False


def test_request_approve_then_go_live_with_mails_and_audit(mailoutbox):
    staff = make_user("ops@shopkeep.example", is_staff=True)
    store = make_store(slug="shop")
    owner = _client(owner_of(store))
    response = owner.post(reverse("dashboard:approval_request", args=[store.slug]),
                          {"note": "We sell ranks on play.example.com"}, follow=True)
    assert "Approval requested" in response.content.decode()
    store.refresh_from_db()
    assert store.live_approval == LiveApproval.PENDING
    with pytest.raises(ServiceError):
        _go_live(store)
    staff_client = _client(staff)
    page = staff_client.get(reverse("staff:approvals")).content.decode()
    assert "We sell ranks on play.example.com" in page
    staff_client.post(reverse("staff:approval_decide", args=[store.pk]),
                      {"decision": "approve"})
    store.refresh_from_db()
    assert store.live_approval == LiveApproval.APPROVED
    assert _go_live(store).test_mode is False
    run_queued_tasks()
    subjects = [(m.to, m.subject) for m in mailoutbox]
    assert (["ops@shopkeep.example"], "[Shopkeep] Store approval requested: Test Store") \
        in subjects
    assert ([owner_of(store).email], "[Shopkeep] Test Store is approved for live payments") \
        in subjects
    assert list(AuditLog.objects.filter(action__startswith="store.approv").order_by("id")
                .values_list("action", "actor_user")) == [
        ("store.approval_requested", owner_of(store).pk), ("store.approved", staff.pk)]


def test_a_rejection_needs_a_reason_which_the_owner_sees_and_can_answer(mailoutbox):
    staff = make_user(is_staff=True)
    store = make_store(slug="shop")
    store_request_approval(store=store, actor=Actor.for_user(owner_of(store)))
    with pytest.raises(ServiceError):
        store_reject(store_id=store.pk, actor=Actor.for_user(staff), reason=" ")
    assert Store.objects.get(pk=store.pk).live_approval == LiveApproval.PENDING
    store_reject(store_id=store.pk, actor=Actor.for_user(staff),
                 reason="Add refund terms to your store page.")
    page = _client(owner_of(store)).get(reverse("dashboard:settings", args=[store.slug]))
    assert "Add refund terms to your store page." in page.content.decode()
    run_queued_tasks()
    assert any("Add refund terms" in m.body for m in mailoutbox)
    store.refresh_from_db()
    with pytest.raises(ServiceError) as refused:
        _go_live(store)
    assert "Add refund terms" in refused.value.message
    # The owner fixes it and asks again.
    store_request_approval(store=store, actor=Actor.for_user(owner_of(store)))
    assert Store.objects.get(pk=store.pk).live_approval == LiveApproval.PENDING


def test_a_decision_is_taken_once():
    staff = make_user(is_staff=True)
    store = make_store()
    store_request_approval(store=store, actor=Actor.for_user(owner_of(store)))
    store_approve(store_id=store.pk, actor=Actor.for_user(staff))
    with pytest.raises(ServiceError) as second:
        store_reject(store_id=store.pk, actor=Actor.for_user(staff), reason="late")
    assert second.value.code == "not_pending"
    assert Store.objects.get(pk=store.pk).live_approval == LiveApproval.APPROVED
    assert AuditLog.objects.filter(action__startswith="store.approv").count() == 2


def test_only_staff_decide_and_owners_only_ask_for_their_own_store():
    store, other = make_store(slug="mine"), make_store(slug="theirs")
    store_request_approval(store=store, actor=Actor.for_user(owner_of(store)))
    with pytest.raises(ServiceError):
        store_approve(store_id=store.pk, actor=Actor.for_user(owner_of(store)))
    outsider = _client(owner_of(other))
    assert outsider.post(reverse("staff:approval_decide", args=[store.pk]),
                         {"decision": "approve"}).status_code == 404
    assert outsider.post(reverse("dashboard:approval_request", args=[store.slug])
                         ).status_code == 404
    assert Store.objects.get(pk=store.pk).live_approval == LiveApproval.PENDING
    assert Store.objects.get(pk=other.pk).live_approval == LiveApproval.NOT_REQUESTED


def test_asking_twice_is_refused_with_a_message():
    store = make_store(slug="shop")
    client = _client(owner_of(store))
    client.post(reverse("dashboard:approval_request", args=[store.slug]))
    again = client.post(reverse("dashboard:approval_request", args=[store.slug]), follow=True)
    assert "already requested" in again.content.decode()
    assert AuditLog.objects.filter(action="store.approval_requested").count() == 1
