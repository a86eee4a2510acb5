from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "shopkeep.staff"
    label = "staff"
