from django.urls import path

from shopkeep.staff import views, views_ops, views_plans, views_status, views_support

app_name = "staff"

urlpatterns = [
    path("", views.store_list, name="store_list"),
    path("stores/<int:store_id>/plan/", views.store_plan, name="store_plan"),
    path("plans/", views_plans.plans, name="plans"),
    path("plans/<int:plan_id>/", views_plans.plans, name="plan_edit"),
    path("approvals/", views_ops.approvals, name="approvals"),
    path("approvals/<int:store_id>/", views_ops.approval_decide, name="approval_decide"),
    path("support/canned/", views_ops.canned_list, name="canned"),
    path("support/canned/<int:reply_id>/", views_ops.canned_list, name="canned_edit"),
    path("support/canned/<int:reply_id>/delete/", views_ops.canned_delete,
         name="canned_delete"),
    path("status/", views_status.incident_list, name="incidents"),
    path("status/<int:incident_id>/", views_status.incident_detail, name="incident"),
    path("support/", views_support.queue, name="support_queue"),
    path("support/tickets/<int:ticket_id>/", views_support.ticket_detail, name="ticket"),
    path("support/tickets/<int:ticket_id>/reply/", views_support.ticket_reply,
         name="ticket_reply"),
    path("support/tickets/<int:ticket_id>/action/", views_support.ticket_action,
         name="ticket_action"),
    path("support/tickets/<int:ticket_id>/attachments/<int:attachment_id>/",
         views_support.ticket_attachment, name="ticket_attachment"),
    path("support/guides/", views_support.guide_list, name="guides"),
    path("support/guides/new/", views_support.guide_edit, name="guide_new"),
    path("support/guides/<int:guide_id>/", views_support.guide_edit, name="guide_edit"),
]
