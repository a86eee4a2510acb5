"""Exponential backoff with jitter for transient platform errors."""

from __future__ import annotations

import random


class Backoff:
    """1 s, 2 s, 4 s ... up to ``cap``, each scaled by a random factor in [0.5, 1] so a fleet
    of agents that lost the platform at the same moment does not return in lockstep."""

    def __init__(self, *, base: float = 1.0, cap: float = 120.0,
                 rng: random.Random | None = None) -> None:
        self.base = base
        self.cap = cap
        self.failures = 0
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not a secret

    def next_delay(self, retry_after: float | None = None) -> float:
        raw = min(self.cap, self.base * (2 ** self.failures))
        self.failures += 1
        delay = raw * self._rng.uniform(0.5, 1.0)
        if retry_after is not None:
            # The platform's Retry-After is a floor, never shortened by jitter.
            delay = max(delay, retry_after)
        return delay

    def reset(self) -> None:
        self.failures = 0
