from django.urls import path

from shopkeep.payments import paypal_webhook, stripe_webhook, views

app_name = "payments"

urlpatterns = [
    path("sandbox/<str:session_id>/", views.sandbox_pay, name="sandbox_pay"),
    path("callbacks/<str:gateway>/", views.callback, name="callback"),
    path("stripe/<str:store_id>/webhook/", stripe_webhook.stripe_webhook, name="stripe_webhook"),
    path("paypal/<str:store_id>/webhook/", paypal_webhook.paypal_webhook, name="paypal_webhook"),
    path("paypal/<str:store_id>/return/", paypal_webhook.paypal_return, name="paypal_return"),
]
