"""Web routes of offboarding, under /employees/<工号>/."""

from django.urls import path

from . import offboarding_views as views

urlpatterns = [
    path("<str:employee_id>/offboard/", views.offboard, name="employee_offboard"),
    path("<str:employee_id>/offboarding/", views.report, name="employee_offboarding"),
    path(
        "<str:employee_id>/offboarding/report.csv",
        views.report_csv,
        name="employee_offboarding_csv",
    ),
    path(
        "<str:employee_id>/offboarding/cancel/",
        views.cancel,
        name="employee_offboarding_cancel",
    ),
    path("<str:employee_id>/enable/", views.enable, name="employee_enable"),
]
