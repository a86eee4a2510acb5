from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "shopkeep.payments"
    label = "payments"

    def ready(self) -> None:
        from shopkeep.payments import tasks  # noqa: F401  (registers periodic jobs)
