from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "shopkeep.events"
    label = "events"
