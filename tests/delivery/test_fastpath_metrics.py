"""The lean agent path counts what it answers and what it holds (core/metrics.py), so
/metrics sees the polls that never reach Django."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async

from shopkeep.core import metrics
from tests.delivery.test_fastpath import PENDING, _buy, _headers, _run, _warm

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_memory_answers_are_counted_by_status(world):
    async def test(lean, plain):
        etag = (await plain.get(PENDING, headers=_headers(world))).headers["etag"]
        await _warm(lean, _headers(world, **{"If-None-Match": etag}))
        before = metrics.POLLS_MEMORY_304._value.get()
        for _ in range(4):
            answer = await lean.get(PENDING, headers=_headers(world, **{"If-None-Match": etag}))
            assert answer.status_code == 304
        assert metrics.POLLS_MEMORY_304._value.get() - before == 4
    _run(test)


def test_held_long_polls_are_a_gauge_that_falls_when_they_are_answered(world):
    async def test(lean, plain):
        etag = (await lean.get(PENDING, headers=_headers(world))).headers["etag"]
        await _warm(lean, _headers(world, **{"If-None-Match": etag}))
        base = metrics.AGENT_LONG_POLLS_HELD._value.get()
        held = [asyncio.ensure_future(lean.get(
            PENDING, params={"wait": 20}, headers=_headers(world, **{"If-None-Match": etag}),
            timeout=30)) for _ in range(5)]
        for _ in range(100):
            if metrics.AGENT_LONG_POLLS_HELD._value.get() - base == 5:
                break
            await asyncio.sleep(0.05)
        assert metrics.AGENT_LONG_POLLS_HELD._value.get() - base == 5
        await sync_to_async(_buy)(world["store"], world["product"])
        answers = await asyncio.gather(*held)
        assert {a.status_code for a in answers} == {200}
        assert metrics.AGENT_LONG_POLLS_HELD._value.get() == base
    _run(test)
