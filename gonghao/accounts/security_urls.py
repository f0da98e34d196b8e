from django.urls import path

from . import security_views

urlpatterns = [
    path("", security_views.my_security, name="my_security"),
    path("sessions/<int:session_id>/end/", security_views.end_my_session, name="end_my_session"),
    path(
        "sessions/end-others/",
        security_views.end_my_other_sessions,
        name="end_my_other_sessions",
    ),
]
