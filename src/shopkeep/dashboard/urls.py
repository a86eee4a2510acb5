from django.urls import path

from shopkeep.dashboard import (
    views,
    views_catalog,
    views_customers,
    views_orders,
    views_subscriptions,
)
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
    path("<slug:store_slug>/customers/<int:customer_id>/", views_customers.customer_detail,
         name="customer_detail"),
    path("<slug:store_slug>/orders/", views_orders.order_list, name="orders"),
    path("<slug:store_slug>/orders/<int:order_id>/", views_orders.order_detail,
         name="order_detail"),
    path("<slug:store_slug>/orders/<int:order_id>/simulate/<str:what>/",
         views_orders.order_simulate, name="order_simulate"),
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
urlpatterns += webhook_urlpatterns
