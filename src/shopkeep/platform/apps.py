from django.apps import AppConfig


class PlatformConfig(AppConfig):
    name = "shopkeep.platform"
    label = "platform"
    verbose_name = "Platform operations"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_login_failed

        from shopkeep.core import metrics

        # A counter, not business logic: the signal is the one place every failed
        # authenticate() (allauth's form included) passes through.
        def count_failure(sender, **kwargs) -> None:
            metrics.LOGIN_FAILURES.inc()

        user_login_failed.connect(count_failure, weak=False,
                                  dispatch_uid="shopkeep.platform.login_failures")
        from shopkeep.platform import tasks  # noqa: F401  (registers periodic jobs)
