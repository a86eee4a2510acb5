from django.apps import AppConfig


class DiscordConfig(AppConfig):
    name = "shopkeep.discord"
    label = "discord"

    def ready(self) -> None:
        from shopkeep.delivery.channels import register_waker
        from shopkeep.discord import tasks

        register_waker("discord", tasks.wake)
