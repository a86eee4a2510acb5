"""Periodic jobs of the platform app."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from shopkeep.core import heartbeat
from shopkeep.core.scheduler import register_periodic


@task()
def prune_heartbeats() -> int:
    return heartbeat.prune()


register_periodic(name="platform.prune_heartbeats", task=prune_heartbeats,
                  every=timedelta(hours=1))
