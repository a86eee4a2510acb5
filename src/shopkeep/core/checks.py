"""Start-up warnings about a production setup that works but does not hold its promises."""

from __future__ import annotations

import logging

from django.conf import settings

logger = logging.getLogger("shopkeep.setup")

_PER_PROCESS = ("django.core.cache.backends.locmem.LocMemCache",
                "django.core.cache.backends.dummy.DummyCache")


def cache_is_per_process() -> bool:
    return settings.CACHES["default"]["BACKEND"] in _PER_PROCESS


def per_process_cache_warning(*, workers: int | None = None) -> str | None:
    """The loud warning production mode prints when login throttling cannot be shared."""
    if not cache_is_per_process():
        return None
    several = f" With --workers {workers}" if workers and workers > 1 else " With several"
    return (
        "\n" + "!" * 78 + "\n"
        "WARNING: SHOPKEEP_REDIS_URL is not set, so the cache is per-process memory.\n"
        "Login rate limits (failed sign-ins per address and per account) are then counted\n"
        f"by each web process on its own.{several} processes or hosts an attacker gets\n"
        "that many times the attempts. Set SHOPKEEP_REDIS_URL=redis://... to share them.\n"
        + "!" * 78
    )


def warn_on_start() -> None:
    """Called from CoreConfig.ready(): every production process logs the warning once."""
    if settings.PRODUCTION and (warning := per_process_cache_warning()):
        logger.warning(warning)
