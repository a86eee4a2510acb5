from django.apps import AppConfig


class ThemesConfig(AppConfig):
    name = "shopkeep.themes"
    label = "themes"
    verbose_name = "Storefront themes, Store Builder and domains"
