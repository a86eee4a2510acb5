from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "shopkeep.webhooks"
    label = "webhooks"

    def ready(self) -> None:
        from shopkeep.webhooks import tasks  # noqa: F401  (registers the retention job)
