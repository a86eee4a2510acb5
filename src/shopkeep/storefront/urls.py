from django.urls import path, register_converter

from shopkeep.storefront import views, views_extra, views_reminders, views_signin, views_support
from shopkeep.themes.hosts import StoreSlugConverter

register_converter(StoreSlugConverter, "store")

app_name = "storefront"

# ``<store:store_slug>`` is "<slug>/" under /s/ on the platform host and empty on the store's
# own host (themes/hosts.py), so every pattern is written without a slash after it.
urlpatterns = [
    path("<store:store_slug>", views.home, name="home"),
    path("<store:store_slug>p/<slug:product_slug>/", views.product_page, name="product"),
    path("<store:store_slug>pages/<slug:page_slug>/", views_extra.store_page, name="page"),
    path("<store:store_slug>basket/", views.basket_page, name="basket"),
    path("<store:store_slug>basket/add/", views.basket_add, name="basket_add"),
    path("<store:store_slug>checkout/", views.checkout, name="checkout"),
    path("<store:store_slug>order/<str:access_key>/", views.order_status, name="order"),
    path("<store:store_slug>order/<str:access_key>/live/", views_extra.order_live,
         name="order_live"),
    path("<store:store_slug>order/<str:access_key>/receipt/", views_extra.order_receipt,
         name="order_receipt"),
    path("<store:store_slug>order/<str:access_key>/download/<int:item_id>/",
         views.order_download, name="order_download"),
    path("<store:store_slug>store.css", views_extra.store_css, name="store_css"),
    path("<store:store_slug>sitemap.xml", views_extra.sitemap, name="sitemap"),
    path("<store:store_slug>robots.txt", views_extra.robots, name="robots"),
    path("<store:store_slug>preview/exit/", views_extra.preview_exit, name="preview_exit"),
    path("<store:store_slug>gift-card/", views.gift_card_balance, name="gift_card"),
    path("<store:store_slug>basket/restore/<str:token>/", views_reminders.basket_restore,
         name="basket_restore"),
    path("<store:store_slug>emails/unsubscribe/<str:token>/", views_reminders.email_unsubscribe,
         name="email_unsubscribe"),
    path("<store:store_slug>account/", views.account, name="account"),
    path("<store:store_slug>account/login/", views.account_login, name="account_login"),
    path("<store:store_slug>account/signup/", views.account_signup, name="account_signup"),
    path("<store:store_slug>account/verify/<str:token>/", views.account_verify,
         name="account_verify"),
    path("<store:store_slug>login/steam/callback/", views_signin.steam_callback,
         name="signin_steam_callback"),
    path("<store:store_slug>login/<str:provider>/", views_signin.signin_start,
         name="signin_start"),
    path("<store:store_slug>login/<str:provider>/finish/", views_signin.signin_finish,
         name="signin_finish"),
    path("<store:store_slug>account/logout/", views.account_logout, name="account_logout"),
    path("<store:store_slug>account/subscriptions/<int:subscription_id>/cancel/",
         views.account_cancel_subscription, name="account_cancel_subscription"),
    path("<store:store_slug>support/", views_support.support_list, name="support_list"),
    path("<store:store_slug>support/new/", views_support.support_new, name="support_new"),
    path("<store:store_slug>support/t/<str:access_key>/", views_support.support_ticket,
         name="support_ticket"),
    path("<store:store_slug>support/t/<str:access_key>/a/<int:attachment_id>/",
         views_support.support_attachment, name="support_attachment"),
]
