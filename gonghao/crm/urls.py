from django.urls import path

from . import sharing_views, views

urlpatterns = [
    path("", views.customer_list, name="customer_list"),
    path("new/", views.customer_create, name="customer_create"),
    path("export/", views.customer_export, name="customer_export"),
    path("<int:customer_id>/", views.customer_detail, name="customer_detail"),
    path("<int:customer_id>/edit/", views.customer_edit, name="customer_edit"),
    path("<int:customer_id>/delete/", views.customer_delete, name="customer_delete"),
    path("<int:customer_id>/restore/", views.customer_restore, name="customer_restore"),
    path("<int:customer_id>/transfer/", views.customer_transfer, name="customer_transfer"),
    path("<int:customer_id>/reveal/<str:field>/", views.customer_reveal, name="customer_reveal"),
    path("pool/", sharing_views.customer_pool, name="customer_pool"),
    path(
        "pool/<int:customer_id>/",
        sharing_views.pool_customer_detail,
        name="pool_customer_detail",
    ),
    path("<int:customer_id>/audit-trail/", views.customer_audit_trail, name="customer_audit_trail"),
    path("<int:customer_id>/shares/", sharing_views.customer_shares, name="customer_shares"),
    path(
        "<int:customer_id>/shares/card/",
        sharing_views.customer_shares_card,
        name="customer_shares_card",
    ),
    path(
        "<int:customer_id>/shares/<int:share_id>/revoke/",
        sharing_views.customer_share_revoke,
        name="customer_share_revoke",
    ),
    path("<int:customer_id>/claim/", sharing_views.customer_claim, name="customer_claim"),
    path("<int:customer_id>/release/", sharing_views.customer_release, name="customer_release"),
]
