from datetime import timedelta

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "shopkeep.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from shopkeep.core import tasks
        from shopkeep.core.checks import warn_on_start
        from shopkeep.core.scheduler import register_periodic

        warn_on_start()

        register_periodic(name="core.clear_expired_sessions", task=tasks.clear_expired_sessions,
                          every=timedelta(days=1))
        register_periodic(name="core.prune_task_results", task=tasks.prune_task_results,
                          every=timedelta(days=1))
