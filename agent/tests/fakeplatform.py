"""A small HTTP server on 127.0.0.1 speaking the agent API (docs/agent-api.md), our own
contract, so the client and loop can be tested without Django. The end-to-end tests in
tests/e2e use the real platform."""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

STORE = "sks_test_store"
SERVER = "srv_test_server"


class FakePlatform:
    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.commands: dict[int, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.request_times: list[float] = []
        self.heartbeats: list[dict[str, Any]] = []
        self.injected: list[tuple[int, dict[str, str], dict[str, Any]]] = []
        self.holder: str | None = None
        self.holder_seen = 0.0
        self.duplicate_window = 180.0
        self.next_poll_seconds = 60
        self.secrets = (STORE, SERVER)
        self.max_attempts = 5
        self._next_id = 100
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> FakePlatform:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- test controls -------------------------------------------------------------------
    def queue(self, command: str, *, type: str = "purchase", player: str = "Steve",
              require_online: bool = False, safe_to_repeat: bool = False,
              delay_after_join: int = 0, **placeholders: str) -> int:
        with self.lock:
            self._next_id += 1
            cid = self._next_id
            values = {"player": player, "quantity": "1", "order_number": f"ORD-{cid}"}
            values.update(placeholders)
            self.commands[cid] = {
                "id": cid, "type": type, "command": command, "placeholders": values,
                "require_online": require_online, "safe_to_repeat": safe_to_repeat,
                "delay_after_join": delay_after_join,
                "player": {"name": player, "uuid": None, "steam_id": None},
                "order": {"id": cid, "order_number": f"ORD-{cid}"},
                "product": {"id": 1, "name": "VIP"}, "attempt_count": 0,
                "created_at": "2025-01-20T14:30:00.000000Z",
                "status": "pending", "reports": []}
            self.lock.notify_all()
            return cid

    def inject(self, status: int, headers: dict[str, str] | None = None,
               body: dict[str, Any] | None = None, times: int = 1) -> None:
        with self.lock:
            for _ in range(times):
                self.injected.append((status, headers or {}, body or {}))

    def status(self, cid: int) -> str:
        with self.lock:
            return self.commands[cid]["status"]

    def paths(self, prefix: str = "") -> list[str]:
        with self.lock:
            return [p for _, p, _ in self.requests if p.startswith(prefix)]

    # -- the API -------------------------------------------------------------------------
    def _due(self) -> list[dict[str, Any]]:
        return [c for c in sorted(self.commands.values(), key=lambda c: c["id"])
                if c["status"] == "pending"]

    def _etag(self, due: list[dict[str, Any]]) -> str:
        key = ",".join(f"{c['id']}:{c['attempt_count']}" for c in due)
        return '"' + hashlib.sha256(key.encode()).hexdigest()[:16] + '"'

    def pending(self, query: dict[str, str], if_none_match: str | None):
        limit = int(query.get("limit", 100))
        wait = min(30, int(query.get("wait", 0)))
        deadline = time.monotonic() + wait
        with self.lock:
            while True:
                due = self._due()
                etag = self._etag(due)
                changed = etag != if_none_match if if_none_match else bool(due)
                if changed or time.monotonic() >= deadline:
                    break
                self.lock.wait(timeout=max(0.0, deadline - time.monotonic()))
            if if_none_match and etag == if_none_match:
                return 304, {"ETag": etag}, None
            items = [{k: v for k, v in c.items() if k not in ("status", "reports",
                                                              "attempt_count")}
                     | {"attempt": c["attempt_count"] + 1} for c in due[:limit]]
            return 200, {"ETag": etag}, {"commands": items, "meta": {
                "count": len(items), "more": len(due) > limit,
                "next_poll_seconds": self.next_poll_seconds,
                "server_time": "2025-01-20T14:30:01.000000Z"}}

    def confirm(self, cid: int, output: str):
        command = self.commands.get(cid)
        if command is None:
            return 404, {"code": "not_found", "message": "Not found."}
        command["reports"].append(("confirm", output))
        if command["status"] == "cancelled":
            return 409, {"code": "command_cancelled", "message": "Cancelled."}
        if command["status"] == "failed":
            return 409, {"code": "command_failed", "message": "Failed."}
        changed = command["status"] != "completed"
        command["status"] = "completed"
        return 200, {"id": cid, "status": "completed", "changed": changed}

    def fail(self, cid: int, body: dict[str, Any]):
        command = self.commands.get(cid)
        if command is None:
            return 404, {"code": "not_found", "message": "Not found."}
        command["reports"].append(("fail", body))
        if command["status"] == "completed":
            return 409, {"code": "command_completed", "message": "Completed."}
        if command["status"] != "pending" or body.get("attempt", 0) <= command["attempt_count"]:
            return 200, {"id": cid, "status": command["status"], "changed": False}
        command["attempt_count"] += 1
        retry = body.get("retryable", True) and command["attempt_count"] < self.max_attempts
        # Real back-off is 30 s; here a retryable failure is due again at once.
        command["status"] = "pending" if retry else "failed"
        command["last_error"] = (body.get("error_code"), body.get("error"))
        return 200, {"id": cid, "status": "retrying" if retry else "failed", "changed": True}


def _handler(platform: FakePlatform):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None):
            raw = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            if body is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _error(self, status: int, code: str, message: str = "", headers=None):
            self._send(status, {"error": {"code": code, "message": message or code}}, headers)

        def _route(self, method: str) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}") if length else {}
            with platform.lock:
                platform.requests.append((method, self.path, dict(self.headers)))
                platform.request_times.append(time.monotonic())
                injected = platform.injected.pop(0) if platform.injected else None
            if injected:
                status, headers, error = injected
                return self._error(status, error.get("code", f"http_{status}"), "", headers)
            if (self.headers.get("X-Store-Secret"), self.headers.get("X-Server-Secret")) != \
                    platform.secrets:
                return self._error(401, "unauthenticated", "Invalid store or server secret.")
            instance = self.headers.get("X-Agent-Instance") or ""
            if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", instance):
                return self._error(400, "invalid_agent_instance")
            with platform.lock:
                now = time.monotonic()
                if (platform.holder and platform.holder != instance
                        and now - platform.holder_seen < platform.duplicate_window):
                    return self._error(409, "duplicate_agent", "Another agent polls.")
                platform.holder, platform.holder_seen = instance, now
            path = url.path
            if method == "GET" and path == "/api/v1/agent/commands/pending":
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                status, headers, data = platform.pending(
                    query, self.headers.get("If-None-Match"))
                return self._send(status, data, headers)
            if method == "POST" and path == "/api/v1/agent/heartbeat":
                with platform.lock:
                    platform.heartbeats.append(body)
                return self._send(200, {"ok": True, "next_heartbeat_seconds": 120,
                                        "server_time": "2025-01-20T14:30:01.000000Z"})
            if method == "POST" and path == "/api/v1/agent/commands/confirm":
                results = []
                with platform.lock:
                    for cid in body.get("ids", []):
                        status, data = platform.confirm(
                            int(cid), (body.get("output") or {}).get(str(cid), ""))
                        results.append(data if status == 200 else {"id": cid, "error": data})
                    platform.lock.notify_all()
                return self._send(200, {"results": results})
            match = re.fullmatch(r"/api/v1/agent/commands/(\d+)/(confirm|fail)", path)
            if method == "POST" and match:
                with platform.lock:
                    cid = int(match.group(1))
                    if match.group(2) == "confirm":
                        status, data = platform.confirm(cid, body.get("output", ""))
                    else:
                        status, data = platform.fail(cid, body)
                    platform.lock.notify_all()
                if status != 200:
                    return self._error(status, data["code"], data["message"])
                return self._send(200, data)
            return self._error(404, "not_found")

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

    return Handler
