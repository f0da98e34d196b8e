"""Exports (csv and xlsx, every kind) need a recent password or second-factor check, like the
customer CSV export: a stale token gets 403 reauthentication_required and nothing is exported;
a stale session is sent to re-authenticate."""

from __future__ import annotations

import pytest
from django.test import Client

from gonghao.accounts.tests.auth_support import web_login
from gonghao.audit.models import AuditEvent
from gonghao.testing.crm import make_crm_cast
from gonghao.testing.kit import api_for, authenticate_freshly

STALE = {"minutes": 11}
EXPORTS = ("export.run", "customer.export")


@pytest.fixture
def crm(db):
    return make_crm_cast()


@pytest.mark.parametrize("kind", ["customers", "contacts", "interactions", "opportunities"])
def test_a_stale_token_exports_nothing(frozen_clock, crm, kind):
    api = api_for(crm.head)
    frozen_clock.advance(**STALE)
    response = api.get(f"/api/v1/exports/{kind}?format=xlsx")
    assert response.status_code == 403, response.content
    assert response.json()["code"] == "reauthentication_required"
    assert not AuditEvent.objects.filter(action__in=EXPORTS).exists()
    assert AuditEvent.objects.filter(action="auth.step_up.refused").count() == 1

    authenticate_freshly(api)
    assert api.get(f"/api/v1/exports/{kind}?format=xlsx").status_code == 200


def test_a_stale_session_is_asked_to_confirm_before_downloading(frozen_clock, crm):
    client = Client()
    web_login(client, crm.head.employee_id)
    frozen_clock.advance(**STALE)
    # The form itself stays open; only the download asks again.
    assert client.get("/data/exports/").status_code == 200
    response = client.get("/data/exports/?kind=customers&format=csv&download=1")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/")
    assert not AuditEvent.objects.filter(action__in=EXPORTS).exists()
