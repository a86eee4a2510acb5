from django.apps import AppConfig


class MidnightThemeConfig(AppConfig):
    """The bundled dark game-store theme."""

    name = "shopkeep.themes.midnight"
    label = "theme_midnight"
    shopkeep_theme = True
