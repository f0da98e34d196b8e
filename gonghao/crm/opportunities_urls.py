"""Web routes of opportunities and the pipeline (mounted at the site root)."""

from django.urls import path

from . import opportunities_views as views

urlpatterns = [
    path("opportunities/", views.opportunity_list, name="opportunity_list"),
    path("opportunities/board/", views.opportunity_board, name="opportunity_board"),
    path("opportunities/new/", views.opportunity_create, name="opportunity_create"),
    path("opportunities/stages/", views.stage_list, name="stage_list"),
    path(
        "opportunities/<int:opportunity_id>/", views.opportunity_detail, name="opportunity_detail"
    ),
    path(
        "opportunities/<int:opportunity_id>/edit/", views.opportunity_edit, name="opportunity_edit"
    ),
    path(
        "opportunities/<int:opportunity_id>/move/", views.opportunity_move, name="opportunity_move"
    ),
    path(
        "opportunities/<int:opportunity_id>/delete/",
        views.opportunity_delete,
        name="opportunity_delete",
    ),
    path(
        "customers/<int:customer_id>/opportunities/",
        views.customer_opportunities,
        name="customer_opportunities",
    ),
]
