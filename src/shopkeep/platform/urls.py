from django.urls import path

from shopkeep.platform import views_status

app_name = "status"

urlpatterns = [
    path("", views_status.page, name="page"),
    path("summary.json", views_status.summary, name="summary"),
    path("feed.atom", views_status.feed, name="feed"),
    path("subscribe/", views_status.subscribe, name="subscribe"),
    path("confirm/<str:token>/", views_status.confirm, name="confirm"),
    path("unsubscribe/<str:token>/", views_status.unsubscribe, name="unsubscribe"),
]
