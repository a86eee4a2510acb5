"""Support benchmark (issue 7): platform-ticket creation throughput (each computes two SLA due
times in business hours), the staff queue's first page over thousands of tickets, and the
daily auto-close job over a thousand overdue tickets, then its idempotent second run.

    PYTHONPATH=src .venv/bin/python bench/support_queue.py
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_support ... (an empty database)

No target in DESIGN.md; the figures show the SQL-sorted queue and the job stay cheap.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TICKETS = int(os.environ.get("BENCH_TICKETS", "2000"))
STORES = 40


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-support-"))
    os.environ.setdefault("SHOPKEEP_DATABASE_URL",
                          os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{tmp / 'b.sqlite3'}"))
    os.environ.setdefault("SHOPKEEP_VAR_DIR", str(tmp))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopkeep.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from shopkeep.accounts.models import User
    from shopkeep.stores.audit import Actor
    from shopkeep.stores.services import store_create
    from shopkeep.support.jobs import tickets_auto_close
    from shopkeep.support.models import Ticket
    from shopkeep.support.selectors import staff_queue
    from shopkeep.support.services import Side, platform_ticket_create, ticket_reply

    plans = ["free", "starter", "growth", "pro"]
    owners, stores = [], []
    for n in range(STORES):
        owner = User.objects.create_user(email=f"owner{n}@bench.test", password="x")
        store = store_create(owner=owner, name=f"Store {n}", slug=f"store-{n}")
        store.plan = plans[n % 4]
        store.save()
        owners.append(owner)
        stores.append(store)
    staff = User.objects.create_user(email="staff@bench.test", password="x", is_staff=True)

    started = time.perf_counter()
    for n in range(TICKETS):
        platform_ticket_create(
            store=stores[n % STORES], actor=Actor.for_user(owners[n % STORES]),
            subject=f"Ticket {n}", category="technical",
            priority=["low", "normal", "high"][n % 3], description="Something is broken.")
    created = time.perf_counter() - started
    print(f"create: {TICKETS} platform tickets in {created:.2f} s "
          f"({TICKETS / created:.0f} tickets/s, two business-hours due times each)")

    now = timezone.now()
    samples = []
    for _ in range(20):
        t0 = time.perf_counter()
        page = list(staff_queue(now=now)[:50])
        for ticket in page:
            ticket.sla_state(now)
        samples.append(time.perf_counter() - t0)
    print(f"staff queue: first 50 of {TICKETS} open tickets, median "
          f"{statistics.median(samples) * 1000:.1f} ms over 20 runs")

    waiting = list(Ticket.objects.order_by("id").values_list("pk", flat=True)[:1000])
    for pk in waiting:
        ticket_reply(ticket=Ticket.objects.get(pk=pk), actor=Actor.for_user(staff),
                     side=Side.SUPPORT, body="Can you send the error text?")
    Ticket.objects.filter(pk__in=waiting).update(waiting_since=now - timedelta(days=8))
    t0 = time.perf_counter()
    first = tickets_auto_close(now=now)
    first_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    second = tickets_auto_close(now=now)
    second_s = time.perf_counter() - t0
    print(f"auto-close: {first['closed']} tickets closed in {first_s:.2f} s "
          f"({first['closed'] / first_s:.0f}/s); second run {second} in "
          f"{second_s * 1000:.1f} ms")
    print(f"database: {django.db.connection.vendor}")


if __name__ == "__main__":
    main()
