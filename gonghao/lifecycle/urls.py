"""Web routes of onboarding requests, under /employees/requests/."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.request_list, name="employee_request_list"),
    path("new/", views.request_create, name="employee_request_create"),
    path("<int:request_id>/", views.request_detail, name="employee_request_detail"),
    path("<int:request_id>/edit/", views.request_edit, name="employee_request_edit"),
    path(
        "<int:request_id>/<slug:action>/",
        views.request_action,
        name="employee_request_action",
    ),
]
