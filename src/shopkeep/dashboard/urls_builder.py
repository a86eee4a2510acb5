from django.urls import path

from shopkeep.dashboard import views_builder

urlpatterns = [
    path("<slug:store_slug>/storefront/", views_builder.builder, name="storefront"),
    path("<slug:store_slug>/storefront/do/<str:action>/", views_builder.builder_action,
         name="storefront_action"),
    path("<slug:store_slug>/storefront/pages/", views_builder.page_list,
         name="storefront_pages"),
    path("<slug:store_slug>/storefront/pages/<int:page_id>/", views_builder.page_edit,
         name="storefront_page_edit"),
    path("<slug:store_slug>/storefront/pages/<int:page_id>/delete/", views_builder.page_delete,
         name="storefront_page_delete"),
    path("<slug:store_slug>/storefront/domains/", views_builder.domain_list,
         name="storefront_domains"),
    path("<slug:store_slug>/storefront/domains/<int:domain_id>/<str:action>/",
         views_builder.domain_action, name="storefront_domain_action"),
]
