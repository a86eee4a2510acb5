from django.apps import AppConfig


class DisputesConfig(AppConfig):
    name = "shopkeep.disputes"
    label = "disputes"
