"""Delivery channels other than the agent: who to wake when their commands become due.

The agent pulls its commands (the wake-up is the server's queue version). A Discord role is
pushed by the platform's worker instead, and the discord app sits above delivery, so it
registers a waker here at start-up (``DiscordConfig.ready``) rather than delivery importing
it. A waker runs inside the caller's transaction and must only enqueue (a task row that
commits with the commands, or not at all).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

Waker = Callable[[list[int]], None]
_WAKERS: dict[str, Waker] = {}


def register_waker(kind: str, waker: Waker) -> None:
    _WAKERS[kind] = waker


def wake(commands: Iterable) -> None:
    """Wake each channel that has due commands among ``commands`` (DeliveryCommand rows)."""
    by_kind: dict[str, list[int]] = {}
    for command in commands:
        by_kind.setdefault(command.kind, []).append(command.pk)
    for kind, ids in by_kind.items():
        waker = _WAKERS.get(kind)
        if waker is not None:
            waker(ids)
