from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "shopkeep.accounts"
    label = "accounts"
