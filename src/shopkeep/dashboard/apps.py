from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "shopkeep.dashboard"
    label = "dashboard"
