"""Web routes of access reviews (/access/reviews/) and role-change requests
(/access/role-requests/)."""

from django.urls import path

from . import access_views as views

urlpatterns = [
    path("reviews/", views.review_list, name="access_review_list"),
    path("reviews/new/", views.review_create, name="access_review_create"),
    path("reviews/mine/", views.review_queue, name="access_review_queue"),
    path("reviews/<int:campaign_id>/", views.review_detail, name="access_review_detail"),
    path(
        "reviews/<int:campaign_id>/report.csv",
        views.review_report_csv,
        name="access_review_report_csv",
    ),
    path("role-requests/", views.role_request_list, name="role_request_list"),
    path("role-requests/new/", views.role_request_create, name="role_request_create"),
    path("role-requests/<int:request_id>/", views.role_request_detail, name="role_request_detail"),
    path(
        "role-requests/<int:request_id>/<slug:action>/",
        views.role_request_action,
        name="role_request_action",
    ),
]
