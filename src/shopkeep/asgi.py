import atexit
import os

from django.core.asgi import get_asgi_application

from shopkeep.core.asgi_limits import BodyLimitMiddleware

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopkeep.settings")

django_application = get_asgi_application()

from django.urls import get_resolver  # noqa: E402

# Import every URLconf and view module now rather than inside the first request: measured
# under load, the first page after a start (often /healthz, right when agents reconnect in
# a burst) otherwise waits over a second for those imports (docs/scaling.md).
get_resolver().url_patterns  # noqa: B018

from shopkeep.delivery.fastpath import AgentFastPath  # noqa: E402  (needs Django set up)

# The body cap wraps everything, outermost: it answers 413 before Django spools a byte of an
# oversized body and before any authentication runs (see core/asgi_limits.py). Inside it, the
# lean agent path answers idle agent polls from memory and hands every other request to
# Django unchanged (see delivery/fastpath.py).
application = BodyLimitMiddleware(AgentFastPath(django_application))

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    from prometheus_client import multiprocess

    # A web process that exits cleanly takes its live gauges (held long-polls) with it; its
    # counters stay, as Prometheus expects of counters.
    atexit.register(multiprocess.mark_process_dead, os.getpid())
