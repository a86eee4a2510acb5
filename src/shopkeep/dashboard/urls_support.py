"""Dashboard routes of the Support and Platform Support sections (included by urls.py)."""

from django.urls import path

from shopkeep.dashboard import views_platform_support as platform
from shopkeep.dashboard import views_support as support

urlpatterns = [
    path("<slug:store_slug>/support/", support.ticket_list, name="support"),
    path("<slug:store_slug>/support/<int:ticket_id>/", support.ticket_detail,
         name="support_ticket"),
    path("<slug:store_slug>/support/<int:ticket_id>/reply/", support.ticket_reply,
         name="support_reply"),
    path("<slug:store_slug>/support/<int:ticket_id>/status/", support.ticket_status,
         name="support_status"),
    path("<slug:store_slug>/support/<int:ticket_id>/delete/", support.ticket_delete,
         name="support_delete"),
    path("<slug:store_slug>/support/<int:ticket_id>/attachments/<int:attachment_id>/",
         support.attachment, name="support_attachment"),
    path("<slug:store_slug>/platform-support/", platform.ticket_list, name="platform_support"),
    path("<slug:store_slug>/platform-support/new/", platform.ticket_create,
         name="platform_ticket_create"),
    path("<slug:store_slug>/platform-support/suggest/", platform.suggest,
         name="platform_suggest"),
    path("<slug:store_slug>/platform-support/guides/<slug:guide_slug>/", platform.guide_detail,
         name="platform_guide"),
    path("<slug:store_slug>/platform-support/<int:ticket_id>/", platform.ticket_detail,
         name="platform_ticket"),
    path("<slug:store_slug>/platform-support/<int:ticket_id>/reply/", platform.ticket_reply,
         name="platform_reply"),
    path("<slug:store_slug>/platform-support/<int:ticket_id>/close/", platform.ticket_close,
         name="platform_close"),
    path("<slug:store_slug>/platform-support/<int:ticket_id>/reopen/", platform.ticket_reopen,
         name="platform_reopen"),
    path("<slug:store_slug>/platform-support/<int:ticket_id>/delete/", platform.ticket_delete,
         name="platform_delete"),
    path("<slug:store_slug>/platform-support/<int:ticket_id>/attachments/<int:attachment_id>/",
         platform.attachment, name="platform_attachment"),
]
