from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    name = "shopkeep.subscriptions"
    label = "subscriptions"

    def ready(self) -> None:
        from shopkeep.subscriptions import tasks  # noqa: F401  (registers periodic jobs)
