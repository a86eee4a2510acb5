"""``ObservabilityMiddleware``: the request id and the HTTP metrics of every Django request.

Outermost in MIDDLEWARE, so the latency includes the whole stack. Routes are labelled by
their URL pattern (``dashboard/orders/<int:pk>/``), never by the raw path: one series per
page, however many ids there are, and unmatched paths share the ``<unmatched>`` label so a
scanner cannot create series.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse

from shopkeep.core import metrics, requestid

AGENT_PENDING_ROUTE = "api/v1/agent/commands/pending"
# Agent answers carry no request id header: the lean path (delivery/fastpath.py) answers
# the same polls byte for byte like Django and cannot afford one per poll.
NO_HEADER_PREFIX = "/api/v1/agent/"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_of(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    route = getattr(match, "route", None) if match is not None else None
    return route or "<unmatched>"


class ObservabilityMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponse | Awaitable[HttpResponse]:
        if self.is_async:
            return self._acall(request)
        request_id = requestid.from_header(request.headers.get(requestid.HEADER))
        request.request_id = request_id
        started = time.perf_counter()
        with requestid.bound(request_id):
            response = self.get_response(request)
        return self._finish(request, response, started)

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        request_id = requestid.from_header(request.headers.get(requestid.HEADER))
        request.request_id = request_id
        started = time.perf_counter()
        # Context variables follow into sync_to_async threads, so the views' and services'
        # log lines and the tasks they enqueue carry this id too.
        with requestid.bound(request_id):
            response = await self.get_response(request)
        return self._finish(request, response, started)

    def _finish(self, request: HttpRequest, response: HttpResponse,
                started: float) -> HttpResponse:
        elapsed = time.perf_counter() - started
        route = route_of(request)
        method = request.method if request.method in METHODS else "OTHER"
        status = str(response.status_code)
        metrics.HTTP_REQUESTS.labels(route=route, method=method, status=status).inc()
        metrics.HTTP_LATENCY.labels(route=route, method=method).observe(elapsed)
        if route == AGENT_PENDING_ROUTE:
            metrics.AGENT_POLLS.labels(answered_by="django", status=status).inc()
        if not request.path.startswith(NO_HEADER_PREFIX):
            response.headers.setdefault(requestid.HEADER, request.request_id)
        return response
