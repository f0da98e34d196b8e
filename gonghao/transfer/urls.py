from django.urls import path

from . import views

urlpatterns = [
    path("imports/", views.imports, name="imports"),
    path("imports/<int:batch_id>/", views.import_detail, name="import_detail"),
    path("imports/<int:batch_id>/progress/", views.import_progress, name="import_progress"),
    path("imports/<int:batch_id>/commit/", views.import_commit, name="import_commit"),
    path(
        "imports/template/<str:kind>.<str:file_format>",
        views.import_template,
        name="import_template",
    ),
    path("exports/", views.exports, name="exports"),
]
