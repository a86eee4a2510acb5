from django.urls import path

from shopkeep.discord import views

app_name = "discord"

urlpatterns = [
    path("interactions/<slug:store_slug>", views.interactions, name="interactions"),
]
