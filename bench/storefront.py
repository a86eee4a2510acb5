"""Storefront benchmark (issue 13): anonymous home and product-page throughput against the
bare /bench/hello on the same uvicorn process, with the page cache (no cookie) and without
it (a session cookie bypasses the cache), measured with wrk; then queries per page for a
store with 200 products (cache miss and hit).

    .venv/bin/python bench/storefront.py         # SQLite in a temporary directory
    BENCH_SECONDS=10 BENCH_CONNECTIONS=32 .venv/bin/python bench/storefront.py
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from serving import uvicorn_server

ROOT = Path(__file__).resolve().parent.parent
SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
PRODUCTS = 200


def _seed() -> None:
    from shopkeep.catalog.models import Product
    from shopkeep.catalog.services import ProductInput, product_create
    from shopkeep.demo import demo_seed
    from shopkeep.stores.audit import Actor
    from shopkeep.stores.models import Store

    demo_seed()
    store = Store.objects.get(slug="demo")
    actor = Actor.system("bench")
    category = store.categories.first()
    for i in range(PRODUCTS - Product.objects.filter(store=store).count()):
        product_create(store=store, actor=actor, data=ProductInput(
            name=f"Bench item {i:03d}", price="1.99", category_id=category.pk,
            description="A bench product."))


def _queries(path: str) -> tuple[int, int]:
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    cache.clear()
    client = Client()
    with CaptureQueriesContext(connection) as miss:
        assert client.get(path).status_code == 200
    with CaptureQueriesContext(connection) as hit:
        assert client.get(path)["X-Shopkeep-Cache"] == "hit"
    return len(miss), len(hit)


def _wrk(url: str, *, cookie: bool) -> float:
    args = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", url]
    if cookie:
        args[1:1] = ["-H", "Cookie: sessionid=bench-no-cache"]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise SystemExit(f"{url}: {non2xx.group(1)} error responses\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-storefront-"))
    env = {"SHOPKEEP_DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
           "SHOPKEEP_VAR_DIR": str(tmp), "SHOPKEEP_LOG_LEVEL": "WARNING",
           "SHOPKEEP_DEBUG": "false", "DJANGO_SETTINGS_MODULE": "bench_settings"}
    os.environ.update(env)
    sys.path.insert(0, str(ROOT / "bench"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    _seed()
    print(f"queries per page, {PRODUCTS} products (cache miss / hit):")
    for path in ("/s/demo/", "/s/demo/p/vip-rank/"):
        miss, hit = _queries(path)
        print(f"  {path:24} {miss:3d} / {hit:3d}")
    # The cache must be shared by the one worker only: locmem in one process is enough.
    with uvicorn_server(env) as base:
        hello = _wrk(f"{base}/bench/hello", cookie=False)
        print(f"\nuvicorn, 1 worker, wrk -c{CONNECTIONS} -d{SECONDS}s; requests/s "
              "(ratio to hello):")
        print(f"  hello                      {hello:9.0f}")
        for label, path in (("home", "/s/demo/"), ("product page", "/s/demo/p/vip-rank/")):
            for cached in (True, False):
                rps = _wrk(base + path, cookie=not cached)
                print(f"  {label + (' cached' if cached else ' uncached'):26} {rps:9.0f}"
                      f"  ({rps / hello:.2f}x)")


if __name__ == "__main__":
    main()
