from django.http import HttpRequest, HttpResponse
from django.urls import path

from shopkeep.urls import handler404  # noqa: F401
from shopkeep.urls import urlpatterns as app_patterns


async def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse("hello", content_type="text/plain")


urlpatterns = [path("bench/hello", hello), *app_patterns]
