"""Lighthouse (mobile emulation, the default) on the demo store's home and a product page,
against Debian's Chromium; prints the four category scores per page.

    npm install --prefix bench/.lighthouse lighthouse@12     # once; nothing else downloads
    .venv/bin/python bench/lighthouse.py                     # seeds and serves a demo store
    LIGHTHOUSE=/path/to/lighthouse BENCH_URL=http://127.0.0.1:8000 \
        .venv/bin/python bench/lighthouse.py

Targets (issue 13): performance >= 90, accessibility >= 95, best practices >= 95, SEO >= 95.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
PAGES = ("/s/demo/", "/s/demo/p/vip-rank/")
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")


def _lighthouse() -> str:
    for candidate in (os.environ.get("LIGHTHOUSE"),
                      str(ROOT / "bench/.lighthouse/node_modules/.bin/lighthouse"),
                      shutil.which("lighthouse")):
        if candidate and Path(candidate).exists():
            return candidate
    raise SystemExit("lighthouse not found: npm install --prefix bench/.lighthouse lighthouse@12")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve() -> tuple[str, subprocess.Popen]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-lighthouse-"))
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "SHOPKEEP_VAR_DIR": str(tmp), "SHOPKEEP_DEBUG": "false",
           "SHOPKEEP_SITE_URL": base, "SHOPKEEP_LOG_LEVEL": "WARNING"}
    shopkeep = str(Path(sys.executable).parent / "shopkeep")
    subprocess.run([shopkeep, "migrate"], env=env, check=True, capture_output=True)
    subprocess.run([shopkeep, "demo"], env=env, check=True, capture_output=True)
    subprocess.run([shopkeep, "manage", "collectstatic", "--noinput"], env=env, check=True,
                   capture_output=True)
    proc = subprocess.Popen([shopkeep, "serve", "--host", "127.0.0.1", "--port", str(port),
                             "--no-migrate", "--no-worker"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            httpx.get(base + PAGES[0], timeout=1)
            return base, proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("the server did not start")


def score(lighthouse: str, url: str) -> dict[str, int]:
    out = subprocess.run(
        [lighthouse, url, "--quiet", "--output=json", "--output-path=stdout",
         f"--only-categories={','.join(CATEGORIES)}",
         "--chrome-flags=--headless=new --no-sandbox --disable-gpu --no-first-run "
         "--disable-background-networking --disable-component-update --disable-sync"],
        env={**os.environ, "CHROME_PATH": CHROMIUM}, capture_output=True, text=True,
        check=True, timeout=300).stdout
    report = json.loads(out)
    return {c: round((report["categories"][c]["score"] or 0) * 100) for c in CATEGORIES}


def main() -> None:
    lighthouse = _lighthouse()
    proc = None
    base = os.environ.get("BENCH_URL")
    if not base:
        base, proc = _serve()
    try:
        print("Lighthouse, mobile emulation, Debian Chromium:")
        print(f"  {'page':24} " + " ".join(f"{c:>15}" for c in CATEGORIES))
        for path in PAGES:
            scores = score(lighthouse, base + path)
            print(f"  {path:24} " + " ".join(f"{scores[c]:>15}" for c in CATEGORIES))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
