from django.urls import path

from . import views

urlpatterns = [
    path("", views.employee_list, name="employee_list"),
    path("new/", views.employee_create, name="employee_create"),
    path("<str:employee_id>/", views.employee_detail, name="employee_detail"),
    path(
        "<str:employee_id>/second-factors/reset/",
        views.employee_reset_second_factors,
        name="employee_reset_second_factors",
    ),
]

from . import access_views  # noqa: E402

urlpatterns += [
    path("<str:employee_id>/roles/", access_views.employee_grants, name="employee_grants"),
    path(
        "<str:employee_id>/roles/<slug:code>/revoke/",
        access_views.employee_revoke,
        name="employee_revoke",
    ),
]

from . import security_views  # noqa: E402

urlpatterns += [
    path(
        "<str:employee_id>/security/",
        security_views.employee_security,
        name="employee_security",
    ),
    path(
        "<str:employee_id>/security/sessions/end/",
        security_views.employee_end_sessions,
        name="employee_end_sessions",
    ),
    path(
        "<str:employee_id>/security/tokens/<int:token_id>/revoke/",
        security_views.employee_revoke_token,
        name="employee_revoke_token",
    ),
]
