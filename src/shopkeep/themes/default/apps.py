from django.apps import AppConfig


class DefaultThemeConfig(AppConfig):
    """The bundled light game-store theme; every other theme falls back to its templates."""

    name = "shopkeep.themes.default"
    label = "theme_default"
    shopkeep_theme = True
