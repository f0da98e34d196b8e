"""CSV export: BOM, translated header, scope, masking, formula neutralising, one audit event."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client

from gonghao.access.services import grant_role
from gonghao.audit.models import AuditEvent
from gonghao.testing.crm import make_customer
from gonghao.testing.kit import api_for

pytestmark = pytest.mark.django_db

EXPORT = "/api/v1/customers/export.csv"
ENGLISH_HEADER = [
    "ID",
    "Kind",
    "Name",
    "Industry",
    "Level",
    "Source",
    "Status",
    "Owner 工号",
    "Phone",
    "E-mail",
    "ID number",
    "Address",
    "Tags",
    "Notes",
    "Updated at",
]


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


def parse(response) -> tuple[list[str], list[dict[str, str]]]:
    raw = body_of(response)
    assert raw.startswith(b"\xef\xbb\xbf"), raw[:10]
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8")[1:])))
    header = rows[0]
    return header, [dict(zip(header, row, strict=True)) for row in rows[1:]]


def export_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="customer.export").order_by("seq"))


def test_head_exports_the_department_tree_in_clear(crm):
    response = api_for(crm.head).get(EXPORT)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="customers.csv"' in response["Content-Disposition"]
    header, rows = parse(response)
    assert header == ENGLISH_HEADER
    assert sorted(row["Name"] for row in rows) == ["上海甲公司", "杭州乙公司"]  # not 北京丙公司
    row = next(r for r in rows if r["Name"] == "上海甲公司")
    # view_sensitive: in clear (the leading "+" is neutralised like any formula start).
    assert row["Phone"] == "'+8613812341234"
    assert row["E-mail"] == "buyer@jia.example.cn"
    assert row["Notes"] == "大客户"
    assert row["Address"] == "上海市浦东新区"
    assert row["Owner 工号"] == crm.rep_a.employee_id
    assert row["ID"] == str(crm.customer_a.pk)

    [event] = export_events()
    assert event.actor_employee_id == crm.head.employee_id
    assert event.params == {"count": 2}
    assert event.changes["clear_personal_data"] == [None, True]
    assert event.changes["filter"] == [None, {"sort": "-updated"}]


def test_marketer_export_is_masked_without_hidden_columns(crm):
    response = api_for(crm.marketer).get(EXPORT)
    assert response.status_code == 200
    header, rows = parse(response)
    assert header == [h for h in ENGLISH_HEADER if h not in ("Notes", "Address", "ID number")]
    assert len(rows) == 3  # scope: all
    row = next(r for r in rows if r["Name"] == "上海甲公司")
    assert row["Phone"] == "138****1234"
    assert row["E-mail"] == "b***@jia.example.cn"
    text = body_of(api_for(crm.marketer).get(EXPORT)).decode()
    for secret in ("13812341234", "buyer@", "大客户", "浦东"):
        assert secret not in text
    event = export_events()[0]
    assert event.params == {"count": 3}
    assert event.changes["clear_personal_data"] == [None, False]


def test_clear_data_only_within_the_view_sensitive_scope(crm):
    # The marketer also sells: their own customer in clear, everyone else's still masked.
    grant_role(crm.marketer, "sales", actor=None, check_permission=False)
    make_customer(crm.marketer, "市场自有客户", phone="+8613600001111")
    _header, rows = parse(api_for(crm.marketer).get(EXPORT))
    phones = {row["Name"]: row["Phone"] for row in rows}
    assert phones == {
        "市场自有客户": "'+8613600001111",
        "上海甲公司": "138****1234",
        "杭州乙公司": "139****5678",
        "北京丙公司": "137****5678",
    }


def test_formulas_are_neutralised(crm):
    make_customer(crm.rep_a, "=cmd|' /C calc'!A0", notes="+1+2")
    make_customer(crm.rep_a, "普通公司一", notes="-2+3", industry="@SUM(A1:A9)")
    make_customer(crm.rep_a, "普通公司二", notes="\t=1", tags='=HYPERLINK("x")')
    _header, rows = parse(api_for(crm.head).get(EXPORT))
    by_name = {row["Name"]: row for row in rows}
    assert "'=cmd|' /C calc'!A0" in by_name
    assert by_name["'=cmd|' /C calc'!A0"]["Notes"] == "'+1+2"
    assert by_name["普通公司一"]["Notes"] == "'-2+3"
    assert by_name["普通公司一"]["Industry"] == "'@SUM(A1:A9)"
    assert by_name["普通公司二"]["Notes"] == "'\t=1"
    assert by_name["普通公司二"]["Tags"] == '\'=HYPERLINK("x")'
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@")), value


def test_export_filters_and_records_them(crm):
    make_customer(crm.rep_a, "上海戊公司", status="active")
    api = api_for(crm.head)
    _header, rows = parse(api.get(EXPORT, {"q": "上海"}))
    assert {r["Name"] for r in rows} == {"上海甲公司", "上海戊公司"}
    _header, rows = parse(api.get(EXPORT, {"q": "上海", "status": "active"}))
    assert [r["Name"] for r in rows] == ["上海戊公司"]
    _header, rows = parse(api.get(EXPORT, {"owner": crm.rep_b.employee_id}))
    assert [r["Name"] for r in rows] == ["杭州乙公司"]
    _header, rows = parse(api.get(EXPORT, {"q": "北京"}))  # out of scope: nothing
    assert rows == []
    events = export_events()
    assert [e.params["count"] for e in events] == [2, 1, 1, 0]
    assert events[1].changes["filter"] == [
        None,
        {"q": "上海", "status": "active", "sort": "-updated"},
    ]
    assert events[2].changes["filter"][1]["owner_id"] == crm.rep_b.pk


def test_header_follows_the_language(crm):
    response = api_for(crm.head, language="zh-hans").get(EXPORT)
    header, rows = parse(response)
    assert len(header) == len(ENGLISH_HEADER)
    assert header != ENGLISH_HEADER
    assert header[0] == "ID"
    assert len(rows) == 2


def test_export_refused_without_the_permission(crm):
    for employee in (crm.rep_a, crm.agent, crm.admin, crm.auditor, crm.nobody):
        response = api_for(employee).get(EXPORT)
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
    assert export_events() == []


def test_export_page_gives_the_same_file(crm):
    api_bytes = body_of(api_for(crm.head).get(EXPORT))
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(crm.head)
    page = client.get("/customers/export/")
    assert page.status_code == 200
    assert "Download CSV" in page.content.decode()
    response = client.get("/customers/export/", {"download": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert body_of(response) == api_bytes
    response = client.get("/customers/export/", {"download": "csv", "q": "杭州"})
    _header, rows = parse(response)
    assert [r["Name"] for r in rows] == ["杭州乙公司"]
    assert [e.params["count"] for e in export_events()] == [2, 2, 1]
