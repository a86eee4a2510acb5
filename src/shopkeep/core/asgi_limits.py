"""Request-body caps at the ASGI layer, before Django, authentication or any view runs.

Django's ASGI handler reads the whole body into a spooled temporary file (on disk past
``FILE_UPLOAD_MAX_MEMORY_SIZE``) before it dispatches, so a view or an auth check that
refuses a 1,500 MB body does so only after it has been received and written out. This
middleware wraps the whole application (outermost in ``shopkeep.asgi``) and:

- answers ``413`` with the API's JSON error shape at once, without reading a byte of the
  body, when ``Content-Length`` declares more than the path's cap;
- counts the bytes of every body as the application reads them, and when a body without a
  ``Content-Length`` (chunked) goes over its cap, stops feeding the application (it sees a
  disconnect) and answers the same ``413``. Such bodies are capped at
  ``STREAMED_LIMIT`` (1 MiB, below Django's 2.5 MB spool threshold) whatever the path, so
  an over-cap body is never written to disk: clients that upload files send a length
  (browsers always do).

It imports nothing from Django, so any ASGI application (Django's, or a lean one mounted
under it) can sit inside it. Caps per path are in ``RULES``, first match wins.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

KIB = 1024
MIB = 1024 * KIB

# The JSON API, the agent API and every HTML form without files.
DEFAULT_LIMIT = 1 * MIB
# Bodies whose length is not declared up front (Transfer-Encoding: chunked).
STREAMED_LIMIT = 1 * MIB

# The documented upload limits (tests/core/test_asgi_limits.py checks these against the
# constants in core/uploads.py, support/attachments.py and payments/views.py):
# product image 2 MB + download 50 MB in one form, plus 1 MiB for the other fields;
PRODUCT_FORM_LIMIT = 2 * MIB + 50 * MIB + 1 * MIB
# support messages: 5 attachments of 10 MB each plus 1 MiB of text;
SUPPORT_FORM_LIMIT = 5 * 10 * MIB + 1 * MIB
# the Store Builder's design form: logo 512 KiB, banner 2 MiB, favicon 128 KiB (themes/services.py),
# plus 1 MiB for the other fields;
STORE_BUILDER_FORM_LIMIT = 512 * KIB + 2 * MIB + 128 * KIB + 1 * MIB
# a product gallery picture (catalog/gallery.py: 2 MB) plus 1 MiB for its alt text;
GALLERY_FORM_LIMIT = 2 * MIB + 1 * MIB
# gateway notices (Stripe events, the sandbox's callbacks).
GATEWAY_CALLBACK_LIMIT = 256 * KIB

_SLUG = r"[-a-zA-Z0-9_]+"

RULES: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(r"^/api/"), DEFAULT_LIMIT),
    (re.compile(r"^/pay/(callbacks/[^/]+|(stripe|paypal)/[^/]+/webhook)/$"),
     GATEWAY_CALLBACK_LIMIT),
    (re.compile(rf"^/dashboard/{_SLUG}/products/(new|[0-9]+)/$"), PRODUCT_FORM_LIMIT),
    (re.compile(rf"^/dashboard/{_SLUG}/products/[0-9]+/pictures/$"), GALLERY_FORM_LIMIT),
    (re.compile(rf"^/dashboard/{_SLUG}/(support|platform-support)/"), SUPPORT_FORM_LIMIT),
    (re.compile(r"^/staff/support/tickets/[0-9]+/reply/$"), SUPPORT_FORM_LIMIT),
    (re.compile(rf"^/s/{_SLUG}/support/"), SUPPORT_FORM_LIMIT),
    # A store on its own domain serves the storefront at the root of that host.
    (re.compile(r"^/support/"), SUPPORT_FORM_LIMIT),
    (re.compile(rf"^/dashboard/{_SLUG}/storefront/$"), STORE_BUILDER_FORM_LIMIT),
)


def limit_for(path: str, rules: Iterable[tuple[re.Pattern[str], int]] = RULES,
              default: int = DEFAULT_LIMIT) -> int:
    for pattern, limit in rules:
        if pattern.match(path):
            return limit
    return default


def _human(size: int) -> str:
    if size >= MIB and size % MIB == 0:
        return f"{size // MIB} MiB"
    if size >= KIB and size % KIB == 0:
        return f"{size // KIB} KiB"
    return f"{size} bytes"


async def _send_error(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            # The rest of the body is never read: the connection cannot be reused.
            (b"connection", b"close"),
        ],
    })
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """ASGI middleware: cap request bodies per path (see the module docstring)."""

    def __init__(self, app: ASGIApp, *,
                 rules: Iterable[tuple[re.Pattern[str], int]] = RULES,
                 default: int = DEFAULT_LIMIT, streamed: int = STREAMED_LIMIT) -> None:
        self.app = app
        self.rules = tuple(rules)
        self.default = default
        self.streamed = streamed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope.get("path", ""), self.rules, self.default)
        lengths = [value for name, value in scope.get("headers", ())
                   if name.lower() == b"content-length"]
        declared: int | None = None
        if lengths:
            # Several lengths, a sign or anything but digits: ambiguous framing, refused
            # (RFC 9112 section 6.3) before anything reads the body.
            if len(set(lengths)) != 1 or not lengths[0].isdigit() or len(lengths[0]) > 19:
                await _send_error(send, 400, "invalid_content_length",
                                  "The Content-Length header is not a valid length.")
                return
            declared = int(lengths[0])
        else:
            limit = min(limit, self.streamed)
        if declared is not None and declared > limit:
            await _send_error(send, 413, "body_too_large",
                              f"The request body is larger than this address accepts "
                              f"({_human(limit)}).")
            return
        await self._guarded(scope, receive, send, limit)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        received = 0
        over = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # The application sees the client go away and stops reading; it never
                    # holds more than `limit` bytes of this body.
                    over = True
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if over and not started:
                return  # the 413 below is the answer, not whatever the app makes of it
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counting_receive, tracking_send)
        if over and not started:
            await _send_error(send, 413, "body_too_large",
                              f"The request body is larger than this address accepts "
                              f"({_human(limit)}).")
