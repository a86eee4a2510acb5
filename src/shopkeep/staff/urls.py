from django.urls import path

from shopkeep.staff import views

app_name = "staff"

urlpatterns = [
    path("", views.store_list, name="store_list"),
    path("stores/<int:store_id>/plan/", views.store_plan, name="store_plan"),
]
