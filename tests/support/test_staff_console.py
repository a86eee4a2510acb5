"""The staff console: queue with breach markers and filters, internal notes, assignment,
status changes, CSAT, and the knowledge base editor."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from shopkeep.stores.audit import Actor
from shopkeep.support.guides import guide_stats
from shopkeep.support.models import Guide, GuideView, Status, Survey
from shopkeep.support.services import Side, ticket_close
from shopkeep.support.surveys import csat, survey_answer
from tests.support.conftest import client_for, new_platform_ticket

pytestmark = pytest.mark.django_db


def test_the_queue_marks_breaches(store, owner, staff, clock):
    store.plan = "pro"
    store.save()
    ticket = new_platform_ticket(store, owner)
    clock.advance(days=2)
    page = client_for(staff).get(reverse("staff:support_queue"))
    assert page.status_code == 200
    row = page.context["page"][0]
    assert row.pk == ticket.pk and row.marker == "breached"
    assert 'class="breach badge err"' in page.content.decode()


def test_queue_filters(store, owner, staff, outsider_store):
    mine = new_platform_ticket(store, owner, subject="Assigned to me")
    new_platform_ticket(outsider_store, subject="Someone else", priority="low")
    client = client_for(staff)
    client.post(reverse("staff:ticket_action", args=[mine.pk]),
                {"action": "assign", "assignee": str(staff.pk)})

    def listed(query: str) -> list[int]:
        return [t.pk for t in client.get(reverse("staff:support_queue") + query)
                .context["page"]]

    assert listed("?assignee=me") == [mine.pk]
    assert mine.pk not in listed("?assignee=none")
    assert listed("?priority=high") == [mine.pk]
    assert listed("?q=someone") != [] and mine.pk not in listed("?q=someone")
    assert listed(f"?plan={store.plan}&q=assigned") == [mine.pk]


def test_internal_notes_and_status_changes_from_the_ticket_page(store, owner, staff):
    ticket = new_platform_ticket(store, owner)
    client = client_for(staff)
    client.post(reverse("staff:ticket_reply", args=[ticket.pk]),
                {"message": "Check gateway logs", "internal": "on"})
    client.post(reverse("staff:ticket_action", args=[ticket.pk]),
                {"action": "status", "status": "in_progress"})
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS and ticket.messages.last().internal
    client.post(reverse("staff:ticket_reply", args=[ticket.pk]), {"message": "Fixed on our side"})
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING_FOR_STORE_OWNER
    bad = client.post(reverse("staff:ticket_action", args=[ticket.pk]),
                      {"action": "assign", "assignee": str(owner.pk)})
    assert bad.status_code == 302
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_surveys_are_one_time_and_feed_csat(store, owner, staff):
    ticket = new_platform_ticket(store, owner)
    ticket_close(ticket=ticket, actor=Actor.for_user(staff), side=Side.SUPPORT)
    from django_tasks_db.models import DBTaskResult

    body = DBTaskResult.objects.exclude(  # the staff's new-ticket mail
        args_kwargs__kwargs__subject__startswith="[Platform support]"
    ).get().args_kwargs["kwargs"]["body"]
    token = body.split("/support/survey/")[1].split("/")[0]
    link = reverse("support_survey", args=[token])
    client = Client()  # no sign-in
    assert client.get(link).status_code == 200
    assert client.post(link, {"rating": "9"}).status_code == 400
    assert client.post(link, {"rating": "4", "comment": "Quick"}).status_code == 200
    survey = Survey.objects.get()
    assert survey.rating == 4 and survey.comment == "Quick" and survey.answered_at
    second = client.post(link, {"rating": "1"})
    assert b"already answered" in second.content
    survey.refresh_from_db()
    assert survey.rating == 4
    assert csat()["average"] == 4 and csat()["satisfied_percent"] == 100
    queue = client_for(staff).get(reverse("staff:support_queue")).content.decode()
    assert "4.0 / 5" in queue
    page = client_for(staff).get(reverse("staff:ticket", args=[ticket.pk])).content.decode()
    assert "4/5 Quick" in page
    assert Client().get(reverse("support_survey", args=["sv_nope"])).status_code == 404


def test_answering_twice_through_the_service_is_refused(store, owner):
    from shopkeep.core.errors import Conflict
    from shopkeep.support.surveys import survey_create

    ticket = new_platform_ticket(store, owner)
    token = survey_create(ticket=ticket, now=timezone.now()).rsplit("/", 2)[-2]
    survey_answer(token=token, rating=5)
    with pytest.raises(Conflict):
        survey_answer(token=token, rating=1)
    assert Survey.objects.get().rating == 5


def test_staff_edit_guides_and_see_which_avoided_a_ticket(store, owner, staff):
    client = client_for(staff)
    guide = Guide.objects.get(slug="cant-log-in")
    response = client.post(reverse("staff:guide_edit", args=[guide.pk]), {
        "title": "Can't Log In", "problem": "Unable to access the dashboard",
        "solutions": "- Reset your password", "keywords": "login password",
        "is_published": "on"})
    assert response.status_code == 302
    guide.refresh_from_db()
    assert guide.solutions == "- Reset your password" and guide.updated_by == staff
    created = client.post(reverse("staff:guide_new"), {
        "title": "Refunds", "problem": "Refund a customer", "solutions": "- Use the order page"})
    assert created.status_code == 302 and Guide.objects.filter(slug="refunds").exists()
    # One opening 2 days ago with no ticket (avoided), one followed by a ticket.
    old = GuideView.objects.create(guide=guide, store=store, user=owner)
    GuideView.objects.filter(pk=old.pk).update(opened_at=timezone.now() - timedelta(days=2))
    GuideView.objects.create(guide=guide, store=store, user=owner)
    new_platform_ticket(store, owner)
    stats = guide_stats()[guide.pk]
    assert (stats["opened"], stats["followed"], stats["deflected"]) == (2, 1, 1)
    assert client.get(reverse("staff:guides")).status_code == 200


def test_store_owners_cannot_edit_guides(store, owner):
    guide = Guide.objects.first()
    response = client_for(owner).post(reverse("staff:guide_edit", args=[guide.pk]), {
        "title": "Hacked", "problem": "x", "solutions": "y"})
    assert response.status_code == 404
    guide.refresh_from_db()
    assert guide.title != "Hacked"


def test_the_knowledge_base_is_seeded_from_the_common_issues():
    assert set(Guide.objects.values_list("title", flat=True)) == {
        "Payment Gateway Not Working", "Products Not Delivering", "Discord Roles Not Assigning",
        "Store Not Loading", "Can't Log In", "Webhook Not Receiving Events",
        "API Authentication Failing"}
