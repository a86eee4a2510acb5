from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "shopkeep.orders"
    label = "orders"

    def ready(self) -> None:
        from shopkeep.orders import tasks  # noqa: F401  (registers periodic jobs)
