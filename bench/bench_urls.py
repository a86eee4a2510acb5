from django.http import HttpRequest, HttpResponse
from django.urls import path

from shopkeep.urls import handler404, urlpatterns as app_patterns  # noqa: F401


async def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse("hello", content_type="text/plain")


urlpatterns = [path("bench/hello", hello), *app_patterns]
