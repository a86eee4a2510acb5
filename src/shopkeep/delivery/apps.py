from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "shopkeep.delivery"
    label = "delivery"

    def ready(self) -> None:
        from shopkeep.delivery import tasks  # noqa: F401  (registers periodic jobs)
