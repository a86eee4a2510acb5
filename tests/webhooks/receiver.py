"""A real HTTP server on 127.0.0.1 that records every request and answers from a script.

``Receiver.respond(path, *answers)`` queues answers for a path; an answer is a status code, a
``(status, headers, body)`` tuple, or ``HANG`` (hold the connection without answering until
the receiver is released). With nothing queued a path answers 200.
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HANG = "hang"


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


class Receiver:
    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._answers: dict[str, deque] = defaultdict(deque)
        self._lock = threading.Lock()
        self.released = threading.Event()
        self.got_request = threading.Event()
        self.in_flight: dict[str, int] = defaultdict(int)
        self.max_in_flight: dict[str, int] = defaultdict(int)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.requests.append(Request(self.path, dict(self.headers.items()),
                                                     body))
                    queued = receiver._answers[self.path]
                    answer = queued.popleft() if queued else 200
                    receiver.in_flight[self.path] += 1
                    receiver.max_in_flight[self.path] = max(receiver.max_in_flight[self.path],
                                                            receiver.in_flight[self.path])
                receiver.got_request.set()
                try:
                    self._answer(answer)
                finally:
                    with receiver._lock:
                        receiver.in_flight[self.path] -= 1

            def _answer(self, answer) -> None:
                if answer == HANG:
                    receiver.released.wait(60)
                    self.close_connection = True
                    return
                status, headers, payload = (answer if isinstance(answer, tuple)
                                            else (answer, {}, b"ok"))
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        class Server(ThreadingHTTPServer):
            request_queue_size = 512  # the default listen backlog (5) drops bursts

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def respond(self, path: str, *answers) -> None:
        with self._lock:
            self._answers[path].extend(answers)

    def on(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()
