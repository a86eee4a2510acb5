from django.urls import path

from shopkeep.dashboard import views_webhooks as v

# Included into the dashboard namespace by dashboard/urls.py.
urlpatterns = [
    path("<slug:store_slug>/webhooks/", v.endpoint_list, name="webhooks"),
    path("<slug:store_slug>/webhooks/new/", v.endpoint_create, name="webhook_create"),
    path("<slug:store_slug>/webhooks/<int:endpoint_id>/", v.endpoint_detail,
         name="webhook_detail"),
    path("<slug:store_slug>/webhooks/<int:endpoint_id>/delete/", v.endpoint_delete,
         name="webhook_delete"),
    path("<slug:store_slug>/webhooks/<int:endpoint_id>/secret/", v.endpoint_secret,
         name="webhook_secret"),
    path("<slug:store_slug>/webhooks/<int:endpoint_id>/rotate/", v.endpoint_rotate,
         name="webhook_rotate"),
    path("<slug:store_slug>/webhooks/<int:endpoint_id>/test/", v.endpoint_test,
         name="webhook_test"),
    path("<slug:store_slug>/webhooks/<int:endpoint_id>/redeliver-failed/",
         v.endpoint_redeliver_failed, name="webhook_redeliver_failed"),
    path("<slug:store_slug>/webhooks/<int:endpoint_id>/deliveries/", v.delivery_list,
         name="webhook_deliveries"),
    path("<slug:store_slug>/webhooks/<int:endpoint_id>/deliveries/<str:delivery_id>/",
         v.delivery_detail, name="webhook_delivery"),
    path("<slug:store_slug>/webhooks/<int:endpoint_id>/deliveries/<str:delivery_id>/resend/",
         v.delivery_resend, name="webhook_resend"),
]
