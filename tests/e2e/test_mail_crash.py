"""SIGKILL the worker while it sends a batch of e-mails to a real SMTP server, and count.

The e-mail outbox (``notifications``) is at least once: SMTP has no idempotency key, so a
worker that dies after the server accepted a message and before the row is marked sent
sends that one message again on the next attempt. This test pins down exactly that: every
mail of the batch arrives, none is lost, a copy appears only for a kill inside the window
between the server's reply to the end of DATA and the ``sent`` mark (one copy per such
kill, with the same Message-ID), and kills anywhere else (before the hand-off, after the
mark, between the task's work and its recorded result) make no copy at all.

Workers are separate processes (``shopkeep worker``) on a SQLite file or a PostgreSQL
database of their own; the SMTP server is aiosmtpd on 127.0.0.1. Counts are printed (``-s``).
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter

from tests.e2e.agent_world import free_port, wait_for
from tests.e2e.smtp_sink import SmtpSink
from tests.e2e.test_jobs_crash import JobsWorld, database_url  # noqa: F401 (the fixture)

BATCH = 20  # orders; each mails a receipt to the buyer and a new-sale notice to the owner


def _mail_world(tmp_path, url: str | None, port: int) -> JobsWorld:
    world = JobsWorld(tmp_path, url)
    world.env.update(SHOPKEEP_EMAIL_BACKEND="smtp", SHOPKEEP_EMAIL_HOST="127.0.0.1",
                     SHOPKEEP_EMAIL_PORT=str(port), SHOPKEEP_EMAIL_USE_TLS="false",
                     SHOPKEEP_EMAIL_FROM="E2E Craft <shop@e2e.test>")
    return world


def test_every_mail_of_a_batch_arrives_across_worker_kills(tmp_path, database_url):  # noqa: F811
    seed = int(os.environ.get("SHOPKEEP_CHAOS_SEED", random.randrange(1_000_000)))
    rng = random.Random(seed)
    sink = SmtpSink(port=free_port(), reply_delay=0.02).start()
    world = _mail_world(tmp_path, database_url, sink.port)
    try:
        shop = world.setup()
        world.ctl("buy", "--product", str(shop["kit"]), "--count", str(BATCH))
        queued = world.jobs("mail-scan")["queued"]
        expected = {row["message_id"]: row["kind"] for row in world.jobs("mail-books")["rows"]}
        assert queued == len(expected) == 2 * BATCH
        in_window: Counter[str] = Counter()  # message in flight at each kill in the window

        # 1. Stopped at each point of a send and SIGKILLed from outside.
        world.start_worker("email.claimed=hang")  # claimed, nothing handed over yet
        world.wait_for_log("failpoint email.claimed: hanging")
        world.kill_worker()
        world.start_worker("email.accepted=hang")  # the server has it; the row says sending
        world.wait_for_log("failpoint email.accepted: hanging")
        in_window[sink.snapshot()[-1].message_id] += 1
        world.kill_worker()
        world.start_worker("email.marked_sent=hang")  # marked sent; QUIT not sent yet
        world.wait_for_log("failpoint email.marked_sent: hanging")
        after_mark = sink.snapshot()[-1].message_id
        # (It may be the re-run of the mail killed in the window just before, if that task
        # came back first: then it arrived twice before the mark and never again after.)
        copies_before_mark = in_window[after_mark]
        world.kill_worker()

        # 2. Killed from inside at the Nth time a point is reached.
        for point in ("email.accepted", "task.ran", "task.claimed", "email.claimed"):
            world.start_worker(f"{point}=kill@{rng.randint(1, 3)}")
            world.wait_dead()
            if point == "email.accepted":  # it dies right after the server took one
                in_window[sink.snapshot()[-1].message_id] += 1

        # 3. SIGKILLs at random moments while it sends.
        random_kills = 0
        for _ in range(6):
            world.start_worker()
            time.sleep(rng.uniform(0.3, 1.2))
            world.kill_worker()
            random_kills += 1

        # A clean worker picks up what the dead ones held and finishes the batch.
        world.start_worker()

        def done():
            rows = world.jobs("mail-books")["rows"]
            return world.drained() and all(row["status"] == "sent" for row in rows) and rows

        rows = wait_for(done, timeout=240, interval=1, what="every mail sent")
        counts = Counter(mail.message_id for mail in sink.snapshot())
        assert set(counts) == set(expected)  # every mail arrived, and nothing else did
        copies = sum(counts.values()) - len(counts)
        for message_id, kills in in_window.items():
            assert counts[message_id] >= 1 + kills  # a kill in the window: one copy each
        assert counts[after_mark] == 1 + copies_before_mark  # marked sent: no copy after
        window_kills = sum(in_window.values())
        # Only kills inside the window make copies, one each; random kills may land there.
        assert window_kills <= copies <= window_kills + random_kills
        assert all(row["attempts"] <= 1 + world.kills for row in rows)
        kinds = Counter(mail.kind for mail in sink.snapshot() if counts[mail.message_id] == 1)
        assert set(kinds) <= {"receipt", "new_sale"}
        print(f"\nmail crash test (seed {seed}, "
              f"{'PostgreSQL' if database_url else 'SQLite'}): {len(expected)} mails, worker "
              f"SIGKILLed {world.kills} times ({window_kills} inside the duplicate window, "
              f"{random_kills} at random); all {len(expected)} arrived, {copies} copies "
              f"(same Message-ID), 0 lost")
    finally:
        world.stop()
        sink.stop()
