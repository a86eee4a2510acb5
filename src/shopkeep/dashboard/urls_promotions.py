from django.urls import path

from shopkeep.dashboard import views_emails as e
from shopkeep.dashboard import views_promotions as v
from shopkeep.dashboard import views_tax as t
from shopkeep.dashboard import views_tiers as tiers

# Included into the dashboard namespace by dashboard/urls.py.
urlpatterns = [
    path("<slug:store_slug>/settings/tax/", t.tax_view, name="tax"),
    path("<slug:store_slug>/settings/tax/save/", t.tax_settings_save, name="tax_save"),
    path("<slug:store_slug>/settings/tax/load-eu/", t.tax_load_eu, name="tax_load_eu"),
    path("<slug:store_slug>/settings/tax/rates/<int:rate_id>/delete/", t.tax_rate_delete,
         name="tax_rate_delete"),
    path("<slug:store_slug>/settings/emails/", e.email_settings, name="emails"),
    path("<slug:store_slug>/settings/emails/save/", e.email_settings_save, name="emails_save"),
    path("<slug:store_slug>/settings/emails/mine/", e.email_my_notices, name="emails_mine"),
    path("<slug:store_slug>/settings/emails/preview/<str:kind>.<str:fmt>",
         e.email_preview, name="email_preview"),
    path("<slug:store_slug>/promotions/coupons/", v.coupon_list, name="coupons"),
    path("<slug:store_slug>/promotions/coupons/new/", v.coupon_create, name="coupon_create"),
    path("<slug:store_slug>/promotions/coupons/<int:coupon_id>/", v.coupon_edit,
         name="coupon_edit"),
    path("<slug:store_slug>/promotions/coupons/<int:coupon_id>/delete/", v.coupon_delete,
         name="coupon_delete"),
    path("<slug:store_slug>/promotions/sales/", v.sale_list, name="sales"),
    path("<slug:store_slug>/promotions/sales/new/", v.sale_create, name="sale_create"),
    path("<slug:store_slug>/promotions/sales/<int:sale_id>/", v.sale_edit, name="sale_edit"),
    path("<slug:store_slug>/promotions/sales/<int:sale_id>/delete/", v.sale_delete,
         name="sale_delete"),
    path("<slug:store_slug>/promotions/tier-groups/", tiers.tier_group_list,
         name="tier_groups"),
    path("<slug:store_slug>/promotions/tier-groups/new/", tiers.tier_group_create,
         name="tier_group_create"),
    path("<slug:store_slug>/promotions/tier-groups/<int:group_id>/", tiers.tier_group_edit,
         name="tier_group_edit"),
    path("<slug:store_slug>/promotions/tier-groups/<int:group_id>/delete/",
         tiers.tier_group_delete, name="tier_group_delete"),
    path("<slug:store_slug>/promotions/gift-cards/", v.gift_card_list, name="gift_cards"),
    path("<slug:store_slug>/promotions/creator-codes/", v.creator_codes,
         name="creator_codes"),
    path("<slug:store_slug>/promotions/gift-cards/<int:card_id>/", v.gift_card_detail,
         name="gift_card_detail"),
    path("<slug:store_slug>/promotions/gift-cards/<int:card_id>/disable/",
         v.gift_card_disable, name="gift_card_disable"),
]
