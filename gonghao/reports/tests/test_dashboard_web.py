"""The dashboard page and API: refusals, the same numbers in both, no personal data for
marketing, charts from embedded JSON in both languages, constant query counts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from gonghao.testing.kit import api_for

from .test_dashboard import _grow

TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "reports"
SCRIPT = Path(__file__).resolve().parents[2] / "static" / "gonghao" / "dashboard.js"
VENDOR = Path(__file__).resolve().parents[2] / "static" / "vendor" / "echarts"


def browser(employee, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(employee)
    return client


def embedded(response, element_id: str) -> dict:
    html = response.content.decode()
    found = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html)
    assert found, element_id
    return json.loads(found.group(1))


def personal_data(world) -> list[str]:
    """Customer names and phones, and the 工号 and names of the employees who followed up."""
    crm = world.crm
    values = ["上海甲公司", "杭州乙公司", "北京丙公司", "苏州丁公司", "天津己公司", "13812341234"]
    for employee in (crm.rep_a, crm.rep_b, crm.rep_c, crm.agent):
        values += [employee.employee_id, employee.name]
    return values


# --- refusals ----------------------------------------------------------------------------------


def test_anonymous_is_refused(world):
    response = Client().get("/api/v1/dashboard")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    page = Client().get("/dashboard/")
    assert page.status_code == 302
    assert page["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("name", ["nobody", "auditor", "security_admin", "agent"])
def test_roles_without_the_permission_get_403(world, name):
    employee = getattr(world.crm, name)
    response = api_for(employee).get("/api/v1/dashboard")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert browser(employee).get("/dashboard/").status_code == 403


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": 7}, "period"),
        ({"period": "abc"}, "period"),
        ({"department": 999999}, "department"),
    ],
)
def test_bad_filters_are_422_in_the_api(world, params, field):
    response = api_for(world.crm.admin).get("/api/v1/dashboard", params)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert field in body["details"]["fields"]


def test_bad_filters_on_the_page_show_the_default_view_with_an_error(world):
    response = browser(world.crm.head).get("/dashboard/", {"department": world.crm.service.pk})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Choose a department within your scope." in html
    assert embedded(response, "dashboard-data")["customers_total"] == 4


# --- the same numbers in the page and the API --------------------------------------------------


@pytest.mark.parametrize("name", ["admin", "head", "rep_a", "marketer"])
def test_page_and_api_agree(world, name):
    employee = getattr(world.crm, name)
    api = api_for(employee).get("/api/v1/dashboard", {"period": 365}).json()
    page = browser(employee).get("/dashboard/", {"period": 365})
    assert page.status_code == 200
    charts = embedded(page, "dashboard-data")
    for key in (
        "customers_total",
        "new_customers_per_week",
        "customers_by_status",
        "customers_by_level",
        "customers_by_source",
        "pipeline_by_stage",
        "pipeline_currencies",
        "win_rate",
        "follow_ups_total",
        "follow_ups_per_employee",
        "overdue_follow_ups",
    ):
        assert charts[key] == api[key], key


def test_api_numbers_for_a_head(world):
    crm = world.crm
    body = api_for(crm.head).get("/api/v1/dashboard", {"department": crm.sales_east.pk}).json()
    assert body["department"]["code"] == "SALES-E"
    assert [d["code"] for d in body["departments"]] == ["SALES", "SALES-E"]
    assert body["customers_total"] == 2
    assert body["period"] == 90
    assert len(body["new_customers_per_week"]) == 12
    assert body["overdue_follow_ups"] == 1
    assert [row["customer"]["name"] for row in body["overdue_list"]] == ["杭州乙公司"]


def test_api_pipeline_keeps_currencies_apart(world):
    body = api_for(world.crm.admin).get("/api/v1/dashboard").json()
    initial = next(row for row in body["pipeline_by_stage"] if row["stage"] == "initial")
    assert initial["amounts"] == {"CNY": "3000.00", "USD": "500.00"}


# --- marketing ---------------------------------------------------------------------------------


def test_marketing_sees_no_personal_data_in_the_api(world):
    response = api_for(world.crm.marketer).get("/api/v1/dashboard", {"period": 365})
    assert response.status_code == 200
    body = response.json()
    assert body["customers_total"] == 6
    assert body["follow_ups_per_employee"] is None
    assert body["overdue_list"] is None
    assert body["people_visible"] is False
    text = response.content.decode()
    for value in personal_data(world):
        assert value not in text, value


def test_marketing_sees_no_personal_data_in_the_page(world):
    response = browser(world.crm.marketer).get("/dashboard/", {"period": 365})
    assert response.status_code == 200
    html = response.content.decode()
    for value in personal_data(world):
        assert value not in html, value
    assert 'data-testid="no-personal-data"' in html
    assert 'data-testid="overdue-list"' not in html
    assert 'data-chart="follow_ups_per_employee"' not in html


def test_a_head_sees_people_and_the_overdue_list(world):
    html = browser(world.crm.head).get("/dashboard/").content.decode()
    assert 'data-testid="overdue-list"' in html
    assert world.crm.rep_b.employee_id in html
    assert "杭州乙公司" in html
    assert 'data-testid="no-personal-data"' not in html


# --- the page ----------------------------------------------------------------------------------


def test_page_draws_charts_from_embedded_json_with_tables(world):
    response = browser(world.crm.admin).get("/dashboard/")
    html = response.content.decode()
    assert "/static/vendor/echarts/echarts.min.js" in html
    assert "/static/gonghao/dashboard.js" in html
    labels = embedded(response, "dashboard-labels")
    assert labels["won"] == "Won"
    charts = set(re.findall(r'data-chart="([a-z_]+)"', html))
    assert charts == {
        "new_customers_per_week",
        "customers_by_status",
        "customers_by_level",
        "customers_by_source",
        "pipeline_by_stage",
        "win_rate",
        "follow_ups_per_employee",
    }
    # Every chart has its numbers as a table too.
    assert html.count("<details") == len(charts)
    assert "<td>2026-03-16</td>" in html  # the last week's row
    # The embedded chart data names no customer.
    assert "上海甲公司" not in json.dumps(embedded(response, "dashboard-data"), ensure_ascii=False)


def test_page_in_chinese(world):
    response = browser(world.crm.admin, "zh-hans").get("/dashboard/")
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in response.content.decode()
    assert embedded(response, "dashboard-labels")["won"]


def test_no_inline_script_or_event_handler_in_the_dashboard_templates():
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text()
        assert not re.search(r"\son[a-z]+\s*=", text), template
        assert "<script>" not in text, template
    assert SCRIPT.exists()


def test_echarts_is_vendored_with_its_licence():
    assert (VENDOR / "echarts.min.js").stat().st_size > 500_000
    assert "Apache License" in (VENDOR / "LICENSE").read_text()
    assert "Apache ECharts" in (VENDOR / "NOTICE").read_text()
    assert "5." in (VENDOR / "README.md").read_text()


def test_nav_and_home_link_to_the_dashboard(world):
    client = browser(world.crm.rep_a)
    home = client.get("/").content.decode()
    assert 'href="/dashboard/"' in home
    assert 'data-testid="home-dashboard"' in home
    other = browser(world.crm.agent).get("/").content.decode()
    assert 'href="/dashboard/"' not in other


# --- query counts ------------------------------------------------------------------------------


def _count(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = call()
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("name", ["admin", "head", "marketer"])
def test_page_and_api_query_counts_do_not_grow(world, name):
    employee = getattr(world.crm, name)
    api = api_for(employee)
    client = browser(employee)
    api.get("/api/v1/dashboard")  # first use stamps the token and the session
    client.get("/dashboard/")
    small_api = _count(lambda: api.get("/api/v1/dashboard", {"period": 365}))
    small_page = _count(lambda: client.get("/dashboard/", {"period": 365}))
    _grow(world, 40)
    assert _count(lambda: api.get("/api/v1/dashboard", {"period": 365})) == small_api
    assert _count(lambda: client.get("/dashboard/", {"period": 365})) == small_page
    assert small_api <= 20, small_api
    assert small_page <= 25, small_page
