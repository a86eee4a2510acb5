from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from shopkeep.core.scheduler import register_periodic
from shopkeep.delivery.models import GameServer


@task()
def promote_due_retries() -> int:
    """Retries whose back-off ended become pending even for a server nobody polls, so the
    dashboard shows the truth. (A poll does the same for its own server first.)"""
    from shopkeep.delivery.agent import promote_due

    now = timezone.now()
    return sum(promote_due(server_id=pk, now=now) for pk in GameServer.objects.filter(
        retry_due_at__lte=now).values_list("pk", flat=True)[:1000])


register_periodic(name="delivery.promote_due_retries", task=promote_due_retries,
                  every=timedelta(minutes=1))
