from django.apps import AppConfig


class PromotionsConfig(AppConfig):
    name = "shopkeep.promotions"
    label = "promotions"
    verbose_name = "Promotions"
