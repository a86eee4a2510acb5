from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "shopkeep.support"
    label = "support"
    verbose_name = "Support"

    def ready(self) -> None:
        from shopkeep.support import tasks  # noqa: F401  (registers the daily auto-close job)
