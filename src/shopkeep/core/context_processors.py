from django.conf import settings
from django.http import HttpRequest

from shopkeep.core.absolute import site_origin


def site(request: HttpRequest) -> dict:
    return {"SITE_URL": site_origin(request=request), "SHOPKEEP_ENV": settings.ENVIRONMENT}
