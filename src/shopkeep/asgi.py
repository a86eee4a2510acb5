import os

from django.core.asgi import get_asgi_application

from shopkeep.core.asgi_limits import BodyLimitMiddleware

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopkeep.settings")

# The body cap wraps everything, outermost: it answers 413 before Django spools a byte of an
# oversized body and before any authentication runs (see core/asgi_limits.py).
application = BodyLimitMiddleware(get_asgi_application())
