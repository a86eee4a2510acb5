"""The Discord worker's jobs: role changes (woken when commands are queued, and swept every
few seconds for retries) and the bot check."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from shopkeep.core.scheduler import register_periodic
from shopkeep.discord.check import run_check
from shopkeep.discord.deliver import deliver_due


@task()
def discord_deliver() -> int:
    return deliver_due()


@task()
def discord_check(store_id: int) -> list[dict]:
    return run_check(store_id=store_id).problems


def wake(command_ids: list[int]) -> None:
    """delivery.channels waker: runs in the transaction that made the commands due."""
    discord_deliver.enqueue()


register_periodic(name="discord.deliver_due", task=discord_deliver, every=timedelta(seconds=10))
