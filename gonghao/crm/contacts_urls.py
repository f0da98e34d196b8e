"""Web routes for contacts and follow-ups, mounted under /customers/ beside the customer pages."""

from django.urls import path

from . import contacts_views as views

urlpatterns = [
    path("follow-ups/", views.follow_ups, name="follow_ups"),
    path("<int:customer_id>/contacts/new/", views.contact_create, name="contact_create"),
    path("contacts/<int:contact_id>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<int:contact_id>/delete/", views.contact_delete, name="contact_delete"),
    path(
        "contacts/<int:contact_id>/reveal/<str:field>/",
        views.contact_reveal,
        name="contact_reveal",
    ),
    path("<int:customer_id>/timeline/", views.customer_timeline, name="customer_timeline"),
    path(
        "<int:customer_id>/interactions/new/",
        views.interaction_create,
        name="interaction_create",
    ),
    path(
        "interactions/<int:interaction_id>/done/",
        views.follow_up_done,
        name="follow_up_done",
    ),
]
