"""The ASGI body cap: 413 before a byte of an oversized body is read, spooled or authenticated."""

from __future__ import annotations

import inspect
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.urls import URLPattern, URLResolver, get_resolver

from shopkeep.core import asgi_limits
from shopkeep.core.asgi_limits import (
    DEFAULT_LIMIT,
    MIB,
    STREAMED_LIMIT,
    BodyLimitMiddleware,
    limit_for,
)


def _scope(path: str, headers: list[tuple[bytes, bytes]], method: str = "POST") -> dict:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
            "query_string": b"", "root_path": "", "headers": [(b"host", b"127.0.0.1"),
                                                              *headers],
            "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}


class Recorder:
    """A downstream app that reads the whole body and answers 200 with its length."""

    def __init__(self) -> None:
        self.called = False
        self.body = b""
        self.saw_disconnect = False

    async def __call__(self, scope, receive, send) -> None:
        self.called = True
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                self.saw_disconnect = True
                return
            self.body += message.get("body", b"")
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(len(self.body)).encode()})


def _run(app, scope, chunks: list[bytes]) -> tuple[list[dict], int]:
    """Run ``app``; return the messages it sent and how many body chunks it pulled."""
    pulled = 0

    async def go() -> list[dict]:
        nonlocal pulled
        communicator = ApplicationCommunicator(app, scope)
        for index, chunk in enumerate(chunks):
            await communicator.send_input({"type": "http.request", "body": chunk,
                                           "more_body": index < len(chunks) - 1})
        sent = []
        try:
            while True:
                sent.append(await communicator.receive_output(timeout=5))
                if sent[-1]["type"] == "http.response.body" and not sent[-1].get("more_body"):
                    break
        finally:
            pulled = len(chunks) - communicator.input_queue.qsize()
            await communicator.wait(timeout=5)
        return sent

    return async_to_sync(go)(), pulled


def _json(sent: list[dict]) -> tuple[int, dict, dict]:
    headers = {name.decode(): value.decode() for name, value in sent[0]["headers"]}
    return sent[0]["status"], headers, json.loads(b"".join(m.get("body", b"") for m in sent[1:]))


def test_a_declared_length_over_the_cap_is_answered_413_without_reading_the_body():
    downstream = Recorder()
    scope = _scope("/api/v1/orders", [(b"content-length", b"1500000000")])
    sent, pulled = _run(BodyLimitMiddleware(downstream), scope, [b"x" * 65536] * 3)
    status, headers, body = _json(sent)
    assert status == 413
    assert body["error"]["code"] == "body_too_large"
    assert "1 MiB" in body["error"]["message"]
    assert headers["content-type"] == "application/json"
    assert headers["connection"] == "close"
    # Nothing downstream ran (no authentication, no Django) and no chunk was pulled.
    assert downstream.called is False
    assert pulled == 0


def test_a_streamed_body_over_the_cap_stops_at_the_cap_and_answers_413():
    downstream = Recorder()
    scope = _scope("/api/v1/orders", [(b"transfer-encoding", b"chunked")])
    chunks = [b"x" * (256 * 1024)] * 8  # 2 MiB, no length declared
    sent, pulled = _run(BodyLimitMiddleware(downstream), scope, chunks)
    status, _headers, body = _json(sent)
    assert (status, body["error"]["code"]) == (413, "body_too_large")
    assert downstream.saw_disconnect is True
    assert len(downstream.body) <= DEFAULT_LIMIT
    assert pulled == 5  # four chunks fill 1 MiB exactly; the fifth goes over and ends it


def test_a_body_under_the_cap_reaches_the_app_unchanged():
    downstream = Recorder()
    payload = b"y" * (DEFAULT_LIMIT - 10)
    scope = _scope("/api/v1/orders", [(b"content-length", str(len(payload)).encode())])
    sent, _ = _run(BodyLimitMiddleware(downstream), scope, [payload[:1000], payload[1000:]])
    assert sent[0]["status"] == 200
    assert downstream.body == payload


def test_a_body_of_exactly_the_cap_is_accepted():
    downstream = Recorder()
    payload = b"z" * DEFAULT_LIMIT
    scope = _scope("/api/v1/orders", [(b"content-length", str(DEFAULT_LIMIT).encode())])
    sent, _ = _run(BodyLimitMiddleware(downstream), scope, [payload])
    assert sent[0]["status"] == 200


@pytest.mark.parametrize("value", [b"-1", b"+5", b"12a", b"", b"1" * 25, b"0x10"])
def test_an_invalid_content_length_is_refused_before_anything_runs(value):
    downstream = Recorder()
    sent, pulled = _run(BodyLimitMiddleware(downstream),
                        _scope("/api/v1/orders", [(b"content-length", value)]), [b""])
    status, _headers, body = _json(sent)
    assert (status, body["error"]["code"]) == (400, "invalid_content_length")
    assert downstream.called is False
    assert pulled == 0


def test_two_different_content_lengths_are_refused():
    downstream = Recorder()
    scope = _scope("/api/v1/orders", [(b"content-length", b"10"), (b"content-length", b"99")])
    sent, _ = _run(BodyLimitMiddleware(downstream), scope, [b"0123456789"])
    assert sent[0]["status"] == 400
    assert downstream.called is False


def test_uploads_have_their_documented_limits_and_everything_else_one_mebibyte():
    from shopkeep.core.uploads import MAX_DOWNLOAD_BYTES, MAX_IMAGE_BYTES
    from shopkeep.payments.views import MAX_CALLBACK_BYTES
    from shopkeep.support.attachments import MAX_REQUEST_BYTES

    product = MAX_IMAGE_BYTES + MAX_DOWNLOAD_BYTES + MIB
    assert limit_for("/dashboard/demo/products/new/") == product
    assert limit_for("/dashboard/demo/products/12/") == product
    for path in ("/dashboard/demo/support/3/reply/", "/dashboard/demo/platform-support/new/",
                 "/dashboard/demo/platform-support/4/reopen/", "/staff/support/tickets/9/reply/",
                 "/s/demo/support/new/", "/s/demo/support/t/abc/"):
        assert limit_for(path) == MAX_REQUEST_BYTES, path
    assert limit_for("/pay/callbacks/sandbox/") == MAX_CALLBACK_BYTES
    assert limit_for("/pay/stripe/store_x/webhook/") == MAX_CALLBACK_BYTES
    for path in ("/api/v1/orders", "/api/v1/agent/commands/pending", "/api/v1/agent/heartbeat",
                 "/accounts/login/", "/dashboard/demo/products/12/delete/", "/"):
        assert limit_for(path) == DEFAULT_LIMIT, path
    # What the cap lets through unannounced stays in memory in Django's spooled body file.
    from django.conf import settings

    assert STREAMED_LIMIT <= DEFAULT_LIMIT <= settings.FILE_UPLOAD_MAX_MEMORY_SIZE
    assert DEFAULT_LIMIT == settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def _sample_path(route: str) -> str:
    # The storefront's `store` converter carries its own trailing slash ("demo/").
    samples = {"int": "1", "store": "demo/"}
    return re.sub(r"<(?:(\w+):)?\w+>", lambda m: samples.get(m.group(1) or "", "demo"), route)


def _routes(resolver: URLResolver, prefix: str = ""):
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _routes(entry, route)
        elif isinstance(entry, URLPattern):
            yield route, entry.callback


def _code_names(code) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if inspect.iscode(const):
            names |= _code_names(const)
    return names


def _source_with_helpers(func, depth: int = 2) -> str:
    """The view's source plus that of the same module's functions it calls (a view often
    hands the request to a helper that reads the files)."""
    try:
        source = inspect.getsource(func)
    except (OSError, TypeError):
        return ""
    if depth == 0 or not hasattr(func, "__code__"):
        return source
    module = sys.modules.get(func.__module__)
    for name in _code_names(func.__code__):
        helper = getattr(module, name, None)
        if inspect.isfunction(helper) and helper.__module__ == func.__module__:
            source += _source_with_helpers(inspect.unwrap(helper), depth - 1)
    return source


def test_every_view_that_reads_uploaded_files_has_an_upload_limit():
    """A new upload view must be given its cap in asgi_limits.RULES, or uploads to it would
    be refused in production (the test client bypasses the ASGI layer)."""
    uploads = []
    for route, view in _routes(get_resolver()):
        if "request.FILES" in _source_with_helpers(inspect.unwrap(view)):
            uploads.append("/" + _sample_path(route))
    assert len(uploads) >= 8  # product create/edit, tickets: dashboard, platform, staff, store
    missing = [path for path in uploads if limit_for(path) <= DEFAULT_LIMIT]
    assert missing == []


def test_django_never_spools_an_oversized_streamed_body_to_disk(monkeypatch):
    from django.core.handlers import asgi as django_asgi

    rollovers = []

    class Watched(tempfile.SpooledTemporaryFile):
        def rollover(self) -> None:
            rollovers.append(True)
            super().rollover()

    monkeypatch.setattr(django_asgi.tempfile, "SpooledTemporaryFile", Watched)
    from shopkeep.asgi import application

    scope = _scope("/api/v1/orders", [(b"content-type", b"application/json")])
    sent, _ = _run(application, scope, [b" " * (512 * 1024)] * 8)  # 4 MiB, chunked
    status, _headers, body = _json(sent)
    assert (status, body["error"]["code"]) == (413, "body_too_large")
    assert rollovers == []


def test_the_application_still_answers_ordinary_requests():
    from shopkeep.asgi import application

    sent, _ = _run(application, _scope("/healthz", [], method="GET"), [b""])
    assert sent[0]["status"] == 200


@pytest.fixture
def uvicorn_server(tmp_path):
    """`shopkeep.asgi:application` under uvicorn on a socket bound to port 0."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPKEEP_")}
    env.update(SHOPKEEP_VAR_DIR=str(tmp_path), SHOPKEEP_ENV="development",
               TMPDIR=str(tmp_path))
    subprocess.run([sys.executable, "-m", "shopkeep.cli", "migrate", "--quiet"], env=env,
                   check=True, timeout=120)
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "shopkeep.asgi:application", "--fd",
         str(sock.fileno()), "--lifespan", "off", "--log-level", "warning"],
        env=env, pass_fds=(sock.fileno(),), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    port = sock.getsockname()[1]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                probe.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                if probe.recv(64).startswith(b"HTTP/1.1 200"):
                    break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail(proc.stdout.read().decode())
    yield port
    proc.terminate()
    proc.wait(timeout=10)
    sock.close()


def test_a_huge_body_with_no_token_is_refused_before_the_client_sends_it(uvicorn_server):
    """The original failure: 1,500 MB with no token was spooled to disk before the 401."""
    with socket.create_connection(("127.0.0.1", uvicorn_server), timeout=10) as conn:
        conn.sendall(b"POST /api/v1/orders HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 1572864000\r\n\r\n"
                     + b"{" + b" " * 65535)
        # Only 64 KiB of the 1,500 MB were sent: the answer cannot have waited for the rest.
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = conn.recv(4096)
            if not chunk:
                break
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    assert json.loads(body)["error"]["code"] == "body_too_large"


def test_the_module_imports_nothing_from_django():
    source = inspect.getsource(asgi_limits)
    assert "django" not in re.sub(r'""".*?"""', "", source, flags=re.S).lower()
