from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "shopkeep.notifications"
    label = "notifications"
    verbose_name = "E-mail notifications"

    def ready(self) -> None:
        from shopkeep.notifications import tasks  # noqa: F401 -- registers the periodic scan
