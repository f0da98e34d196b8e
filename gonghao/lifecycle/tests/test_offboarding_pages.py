"""Offboarding through the web UI: preview then confirm, the report and its CSV, errors beside
the field, cancel, re-enable, and who may open these pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from gonghao.accounts.models import Employee
from gonghao.audit.models import AuditEvent
from gonghao.lifecycle.models import Offboarding
from gonghao.testing.crm import make_crm_cast
from gonghao.testing.kit import PASSWORD, make_employee


def browser(employee, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(employee)
    return client


@pytest.fixture
def crm(db):
    cast = make_crm_cast()
    cast.successor = make_employee("接手人", roles=("sales",), department=cast.sales)
    return cast


@pytest.mark.django_db
def test_offboard_through_the_pages_preview_confirm_report_csv(crm):
    rep = crm.rep_a
    rep_browser = Client()
    assert rep_browser.login(username=rep.employee_id, password=PASSWORD)
    admin = browser(crm.admin)
    detail = admin.get(f"/employees/{rep.employee_id}/").content.decode()
    assert 'data-testid="offboard"' in detail
    form_url = f"/employees/{rep.employee_id}/offboard/"
    assert admin.get(form_url).status_code == 200

    seq = AuditEvent.objects.order_by("-seq").first().seq
    preview = admin.post(form_url, {"successor": crm.successor.employee_id, "effective": ""})
    text = preview.content.decode()
    assert preview.status_code == 200
    assert 'data-testid="confirm"' in text and crm.customer_a.name in text
    assert 'data-testid="preview-crm.customers"' in text
    rep.refresh_from_db()
    assert rep.status == "active" and not Offboarding.objects.exists()
    assert not AuditEvent.objects.filter(seq__gt=seq).exists()

    done = admin.post(
        form_url, {"successor": crm.successor.employee_id, "effective": "", "confirm": "1"}
    )
    assert done.status_code == 302
    assert done["Location"] == f"/employees/{rep.employee_id}/offboarding/"
    rep.refresh_from_db()
    assert rep.status == "departed"
    assert rep_browser.get("/").status_code == 302  # the session died
    report = admin.get(done["Location"]).content.decode()
    assert 'data-testid="report"' in report and crm.customer_a.name in report
    csv = admin.get(f"/employees/{rep.employee_id}/offboarding/report.csv")
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    body = csv.content.decode("utf-8")
    assert body.startswith("\ufeffstep,kind,record_id,label,from,to,moved,note")
    line = f"crm.customers,customer,{crm.customer_a.pk},{crm.customer_a.name},"
    assert line + f"{rep.employee_id},{crm.successor.employee_id},yes," in body
    exported = AuditEvent.objects.get(action="handover.export")
    assert exported.target_id == str(rep.pk) and exported.params["count"] == 2
    detail = admin.get(f"/employees/{rep.employee_id}/").content.decode()
    assert 'data-testid="handover-report"' in detail and 'data-testid="offboard"' not in detail


@pytest.mark.django_db
def test_form_errors_beside_the_field_change_nothing(crm):
    admin = browser(crm.admin)
    inactive = make_employee("停用", status="disabled")
    response = admin.post(
        f"/employees/{crm.rep_a.employee_id}/offboard/",
        {"successor": inactive.employee_id, "confirm": "1"},
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "invalid-feedback" in text and "is not active" in text
    past = (timezone.localdate() - timedelta(days=2)).isoformat()
    response = admin.post(
        f"/employees/{crm.rep_a.employee_id}/offboard/", {"effective": past, "confirm": "1"}
    )
    assert "cannot be in the past" in response.content.decode()
    crm.rep_a.refresh_from_db()
    assert crm.rep_a.status == "active" and not Offboarding.objects.exists()


@pytest.mark.django_db
def test_pages_need_the_permission_and_nobody_offboards_themselves(crm):

    for who in (crm.head, crm.rep_b, crm.auditor):
        client = browser(who)
        assert client.get(f"/employees/{crm.rep_a.employee_id}/offboard/").status_code == 403
        assert client.get(f"/employees/{crm.rep_a.employee_id}/offboarding/").status_code == 403
    admin = browser(crm.admin)
    mine = admin.post(f"/employees/{crm.admin.employee_id}/offboard/", {"confirm": "1"})
    assert mine.status_code == 403
    crm.admin.refresh_from_db()
    assert crm.admin.status == "active"
    assert admin.get("/employees/E12/offboard/").status_code == 404


@pytest.mark.django_db
def test_cancel_a_scheduled_offboarding_from_the_report_page(crm):
    admin = browser(crm.admin)
    later = (timezone.localdate() + timedelta(days=7)).isoformat()
    form_url = f"/employees/{crm.rep_a.employee_id}/offboard/"
    admin.post(form_url, {"successor": "", "effective": later, "confirm": "1"})
    report = admin.get(f"/employees/{crm.rep_a.employee_id}/offboarding/").content.decode()
    assert 'data-testid="cancel"' in report
    response = admin.post(f"/employees/{crm.rep_a.employee_id}/offboarding/cancel/")
    assert response.status_code == 302
    assert Offboarding.objects.get().status == "cancelled"


@pytest.mark.django_db
def test_re_enable_button_on_the_employee_page(crm):
    sleeper = make_employee("休眠者", status="disabled")
    admin = browser(crm.admin)
    page = admin.get(f"/employees/{sleeper.employee_id}/").content.decode()
    assert 'data-testid="enable"' in page
    assert browser(crm.head).post(f"/employees/{sleeper.employee_id}/enable/").status_code == 403
    response = admin.post(f"/employees/{sleeper.employee_id}/enable/")
    assert response.status_code == 302
    assert Employee.objects.get(pk=sleeper.pk).status == "active"
    assert AuditEvent.objects.filter(action="employee.enable").count() == 1


@pytest.mark.django_db
def test_report_page_for_the_public_pool(crm):
    admin = browser(crm.admin)
    admin.post(f"/employees/{crm.rep_b.employee_id}/offboard/", {"successor": "", "confirm": "1"})
    page = admin.get(f"/employees/{crm.rep_b.employee_id}/offboarding/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "public pool" in text and crm.customer_b.name in text
