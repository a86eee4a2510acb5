from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "shopkeep.payments"
    label = "payments"

    def ready(self) -> None:
        # Registers the periodic jobs, and each gateway module registers its provider.
        from shopkeep.payments import tasks  # noqa: F401
        from shopkeep.payments.gateways import paypal, sandbox, stripe  # noqa: F401
