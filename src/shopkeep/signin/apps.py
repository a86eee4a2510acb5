from django.apps import AppConfig


class SigninConfig(AppConfig):
    name = "shopkeep.signin"
    label = "signin"
    verbose_name = "Customer sign-in with Discord and Steam"

    def ready(self) -> None:
        from datetime import timedelta

        from shopkeep.core.scheduler import register_periodic
        from shopkeep.signin import tasks

        register_periodic(name="signin.prune", task=tasks.signin_prune, every=timedelta(hours=1))
