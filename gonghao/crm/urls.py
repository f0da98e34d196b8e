from django.urls import path

from . import views

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
]
