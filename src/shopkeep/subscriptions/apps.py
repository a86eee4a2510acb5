from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    name = "shopkeep.subscriptions"
    label = "subscriptions"
