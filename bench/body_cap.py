"""How fast an oversized body is refused: a 1,500 MB POST with no token.

Starts `shopkeep.asgi:application` under uvicorn on a socket bound to port 0 (fresh SQLite
under a temporary directory), then for each path sends the request line and headers and
streams zeros as fast as the socket takes them, timing from the first byte sent to the
response's status line. Before the body cap the API spooled all 1,500 MB to disk and then
answered 401. Prints one line per case and the temporary directory's size afterwards (what
was spooled: nothing).

    PYTHONPATH=src python bench/body_cap.py
"""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZE = 1500 * 1000 * 1000
CASES = [
    ("POST", "/api/v1/orders", "application/json"),
    ("POST", "/api/v1/agent/commands/1/confirm", "application/json"),
    ("POST", "/s/demo/support/new/", "multipart/form-data; boundary=x"),
]


def _start(tmp: Path) -> tuple[subprocess.Popen, socket.socket]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPKEEP_")}
    env.update(SHOPKEEP_VAR_DIR=str(tmp / "var"), SHOPKEEP_ENV="development", TMPDIR=str(tmp))
    subprocess.run([sys.executable, "-m", "shopkeep.cli", "migrate", "--quiet"], env=env,
                   check=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "shopkeep.asgi:application", "--fd",
         str(sock.fileno()), "--lifespan", "off", "--log-level", "warning"],
        env=env, pass_fds=(sock.fileno(),))
    port = sock.getsockname()[1]
    for _ in range(150):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                probe.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                if probe.recv(16).startswith(b"HTTP/1.1 200"):
                    return proc, sock
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not start")


def _one(port: int, method: str, path: str, content_type: str) -> tuple[float, str, int]:
    conn = socket.create_connection(("127.0.0.1", port))
    conn.setblocking(False)
    head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {SIZE}\r\n\r\n").encode()
    chunk = b"\0" * 65536
    pending, sent, answer = head, 0, b""
    start = time.perf_counter()
    while b"\r\n" not in answer:
        readable, writable, _ = select.select([conn], [conn] if sent < SIZE else [], [], 10)
        if not readable and not writable:
            break
        if readable:
            data = conn.recv(4096)
            if not data:
                break
            answer += data
        elif writable:
            try:
                sent += max(0, conn.send(pending) - (len(head) if pending is head else 0))
            except (BrokenPipeError, ConnectionResetError):
                break
            pending = chunk
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed, answer.split(b"\r\n", 1)[0].decode(errors="replace"), sent


def main() -> None:
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        proc, sock = _start(tmp)
        try:
            port = sock.getsockname()[1]
            for method, path, content_type in CASES:
                elapsed, status, sent = _one(port, method, path, content_type)
                print(f"{method} {path} with {SIZE // 1000 // 1000} MB declared, no token: "
                      f"{status!r} after {elapsed * 1000:.1f} ms "
                      f"({sent / 1e6:.1f} MB of the body sent by then)")
            spooled = sum(f.stat().st_size for f in tmp.iterdir() if f.is_file())
            print(f"bytes left in TMPDIR: {spooled}")
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            sock.close()


if __name__ == "__main__":
    main()
