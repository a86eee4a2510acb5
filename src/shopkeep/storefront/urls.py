from django.urls import path

from shopkeep.storefront import views, views_support

app_name = "storefront"

urlpatterns = [
    path("<slug:store_slug>/", views.home, name="home"),
    path("<slug:store_slug>/p/<slug:product_slug>/", views.product_page, name="product"),
    path("<slug:store_slug>/basket/", views.basket_page, name="basket"),
    path("<slug:store_slug>/checkout/", views.checkout, name="checkout"),
    path("<slug:store_slug>/order/<str:access_key>/", views.order_status, name="order"),
    path("<slug:store_slug>/order/<str:access_key>/download/<int:item_id>/",
         views.order_download, name="order_download"),
    path("<slug:store_slug>/gift-card/", views.gift_card_balance, name="gift_card"),
    path("<slug:store_slug>/account/", views.account, name="account"),
    path("<slug:store_slug>/account/login/", views.account_login, name="account_login"),
    path("<slug:store_slug>/account/signup/", views.account_signup, name="account_signup"),
    path("<slug:store_slug>/account/verify/<str:token>/", views.account_verify,
         name="account_verify"),
    path("<slug:store_slug>/account/logout/", views.account_logout, name="account_logout"),
    path("<slug:store_slug>/account/subscriptions/<int:subscription_id>/cancel/",
         views.account_cancel_subscription, name="account_cancel_subscription"),
    path("<slug:store_slug>/support/", views_support.support_list, name="support_list"),
    path("<slug:store_slug>/support/new/", views_support.support_new, name="support_new"),
    path("<slug:store_slug>/support/t/<str:access_key>/", views_support.support_ticket,
         name="support_ticket"),
    path("<slug:store_slug>/support/t/<str:access_key>/a/<int:attachment_id>/",
         views_support.support_attachment, name="support_attachment"),
]
