"""The real URLs plus one view that fails, for the 500 page tests."""

from django.urls import path

from shopkeep.urls import handler404, handler500, urlpatterns  # noqa: F401


def boom(request):
    raise RuntimeError("secret-detail-that-must-not-leak")


urlpatterns = [*urlpatterns, path("boom/", boom), path("api/v1/boom/", boom)]
