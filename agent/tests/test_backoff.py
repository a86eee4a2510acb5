from __future__ import annotations

import random

from shopkeep_agent.backoff import Backoff


def seeded(seed: int) -> random.Random:
    return random.Random(seed)  # noqa: S311 - reproducible jitter, not a secret


def test_delays_grow_exponentially_with_jitter_and_stop_at_the_cap():
    backoff = Backoff(base=1, cap=30, rng=seeded(7))
    delays = [backoff.next_delay() for _ in range(8)]
    for n, delay in enumerate(delays):
        ceiling = min(30, 2 ** n)
        assert ceiling / 2 <= delay <= ceiling
    assert max(delays) <= 30


def test_jitter_spreads_agents_that_failed_together():
    firsts = {round(Backoff(rng=seeded(seed)).next_delay(), 6) for seed in range(20)}
    assert len(firsts) > 10


def test_retry_after_is_a_floor():
    backoff = Backoff(base=1, cap=30, rng=seeded(1))
    assert backoff.next_delay(retry_after=17) >= 17


def test_reset_starts_over():
    backoff = Backoff(base=1, cap=30, rng=seeded(1))
    for _ in range(5):
        backoff.next_delay()
    backoff.reset()
    assert backoff.next_delay() <= 1
