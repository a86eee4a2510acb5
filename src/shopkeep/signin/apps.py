from django.apps import AppConfig


class SigninConfig(AppConfig):
    name = "shopkeep.signin"
    label = "signin"
    verbose_name = "Customer sign-in with Discord and Steam"
