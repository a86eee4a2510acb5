from django.apps import AppConfig


class StoresConfig(AppConfig):
    name = "shopkeep.stores"
    label = "stores"
