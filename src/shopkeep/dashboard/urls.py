from django.urls import path

from shopkeep.dashboard import (
    urls_support,
    views,
    views_catalog,
    views_customers,
    views_orders,
    views_payments,
    views_servers,
    views_subscriptions,
)
from shopkeep.dashboard.urls_builder import urlpatterns as builder_urlpatterns
from shopkeep.dashboard.urls_promotions import urlpatterns as promotion_urlpatterns
from shopkeep.dashboard.urls_webhooks import urlpatterns as webhook_urlpatterns

app_name = "dashboard"

urlpatterns = [
    path("", views.home, name="home"),
    path("new-store/", views.store_create, name="store_create"),
    path("<slug:store_slug>/", views.overview, name="overview"),
    path("<slug:store_slug>/settings/", views.settings_view, name="settings"),
    path("<slug:store_slug>/settings/members/", views.members, name="members"),
    path("<slug:store_slug>/settings/members/<int:member_id>/role/", views.member_role,
         name="member_role"),
    path("<slug:store_slug>/settings/members/<int:member_id>/remove/", views.member_remove,
         name="member_remove"),
    path("<slug:store_slug>/settings/tokens/", views.tokens, name="tokens"),
    path("<slug:store_slug>/settings/tokens/<int:token_id>/revoke/", views.token_revoke,
         name="token_revoke"),
    path("<slug:store_slug>/settings/audit/", views.audit, name="audit"),
    path("<slug:store_slug>/settings/payments/", views_payments.payments_settings,
         name="payments"),
    path("<slug:store_slug>/settings/payments/disconnect/", views_payments.payments_disconnect,
         name="payments_disconnect"),
    path("<slug:store_slug>/products/", views_catalog.product_list, name="products"),
    path("<slug:store_slug>/products/new/", views_catalog.product_create, name="product_create"),
    path("<slug:store_slug>/products/<int:product_id>/", views_catalog.product_edit,
         name="product_edit"),
    path("<slug:store_slug>/products/<int:product_id>/delete/", views_catalog.product_delete,
         name="product_delete"),
    path("<slug:store_slug>/products/<int:product_id>/commands/<str:trigger>/",
         views_catalog.product_actions, name="product_actions"),
    path("<slug:store_slug>/categories/", views_catalog.category_list, name="categories"),
    path("<slug:store_slug>/categories/<int:category_id>/", views_catalog.category_edit,
         name="category_edit"),
    path("<slug:store_slug>/categories/<int:category_id>/delete/",
         views_catalog.category_delete, name="category_delete"),
    path("<slug:store_slug>/customers/", views_customers.customer_list, name="customers"),
    path("<slug:store_slug>/exports/", views_customers.exports, name="exports"),
    path("<slug:store_slug>/customers/<int:customer_id>/", views_customers.customer_detail,
         name="customer_detail"),
    path("<slug:store_slug>/orders/", views_orders.order_list, name="orders"),
    path("<slug:store_slug>/orders/<int:order_id>/", views_orders.order_detail,
         name="order_detail"),
    path("<slug:store_slug>/orders/<int:order_id>/simulate/<str:what>/",
         views_orders.order_simulate, name="order_simulate"),
    path("<slug:store_slug>/orders/<int:order_id>/retry-delivery/",
         views_servers.order_retry_delivery, name="order_retry_delivery"),
    path("<slug:store_slug>/orders/<int:order_id>/commands/<int:command_id>/mark-delivered/",
         views_servers.command_mark_delivered, name="command_mark_delivered"),
    path("<slug:store_slug>/orders/<int:order_id>/commands/<int:command_id>/run-again/",
         views_servers.command_run_again, name="command_run_again"),
    path("<slug:store_slug>/servers/", views_servers.server_list, name="servers"),
    path("<slug:store_slug>/servers/settings/", views_servers.delivery_settings,
         name="delivery_settings"),
    path("<slug:store_slug>/servers/store-secret/", views_servers.store_secret,
         name="store_secret"),
    path("<slug:store_slug>/servers/store-secret/rotate/", views_servers.store_secret_rotate,
         name="store_secret_rotate"),
    path("<slug:store_slug>/servers/<int:server_id>/", views_servers.server_detail,
         name="server_detail"),
    path("<slug:store_slug>/servers/<int:server_id>/status/", views_servers.server_status,
         name="server_status"),
    path("<slug:store_slug>/servers/<int:server_id>/rotate/", views_servers.server_rotate,
         name="server_rotate"),
    path("<slug:store_slug>/servers/<int:server_id>/release/", views_servers.server_release,
         name="server_release"),
    path("<slug:store_slug>/servers/<int:server_id>/remove/", views_servers.server_remove,
         name="server_remove"),
    path("<slug:store_slug>/disputes/", views_orders.dispute_list, name="disputes"),
    path("<slug:store_slug>/subscriptions/", views_subscriptions.subscription_list,
         name="subscriptions"),
    path("<slug:store_slug>/subscriptions/<int:subscription_id>/",
         views_subscriptions.subscription_detail, name="subscription_detail"),
    path("<slug:store_slug>/subscriptions/<int:subscription_id>/cancel/",
         views_subscriptions.subscription_cancel_view, name="subscription_cancel"),
    path("<slug:store_slug>/subscriptions/<int:subscription_id>/simulate/<str:what>/",
         views_subscriptions.subscription_simulate, name="subscription_simulate"),
]

# Support and Platform Support (their own module; plain patterns, not an include, so tests
# that walk the resolver see every view).
urlpatterns += urls_support.urlpatterns
urlpatterns += webhook_urlpatterns
urlpatterns += promotion_urlpatterns
urlpatterns += builder_urlpatterns
