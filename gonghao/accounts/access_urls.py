from django.urls import path

from . import access_views

urlpatterns = [
    path("roles/", access_views.role_matrix, name="role_matrix"),
    path("roles/<slug:code>/", access_views.role_edit, name="role_edit"),
    path("why/", access_views.why, name="access_why"),
]
