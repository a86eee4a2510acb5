from django.urls import path

from shopkeep.payments import views

app_name = "payments"

urlpatterns = [
    path("sandbox/<str:session_id>/", views.sandbox_pay, name="sandbox_pay"),
    path("callbacks/<str:gateway>/", views.callback, name="callback"),
]
