"""The product starts: health check, login page and API document answer."""

import pytest


@pytest.mark.django_db
def test_health_and_login_page(client):
    assert client.get("/healthz").content == b"ok"
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert b'name="login"' in response.content


@pytest.mark.django_db
def test_openapi_document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert "/api/v1/auth/token" in response.json()["paths"]


def test_me_requires_auth(cast, client):
    response = client.get("/api/v1/me", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_me_with_token(admin_api, cast):
    body = admin_api.get("/api/v1/me").json()
    assert body["employee_id"] == cast.admin.employee_id
    assert "employee.manage" in body["permissions"]


def test_collectstatic_and_manifest_serve_the_layout(tmp_path, settings, client, db):
    """Production storage: every static file the base layout names is in the manifest."""
    from django.core.management import call_command

    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert b"bootstrap.min." in response.content
    assert (tmp_path / "vendor" / "bootstrap" / "bootstrap.min.css").exists()
