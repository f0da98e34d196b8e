"""CSV files: the shared writer, and every CSV the product writes — customer exports (API and
page), the exports and import templates of transfer, the access-review report, the handover
report — starts with the UTF-8 BOM and never holds a cell a spreadsheet would run."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client

from gonghao.core import clock
from gonghao.core.csv_export import render_csv, safe_cell
from gonghao.crm.models import Contact, Interaction, Opportunity, Stage
from gonghao.lifecycle import offboarding, reviews
from gonghao.lifecycle.access_models import AccessReviewItem
from gonghao.testing.crm import make_crm_cast, make_customer
from gonghao.testing.kit import api_for, make_employee

# Text a spreadsheet runs as a formula: each planted where an export shows it.
FORMULAS = ("=cmd|' /C calc'!A0", "+1+2", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=2+2")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff".encode()


def cells_of(raw: bytes) -> list[str]:
    """Every cell of a CSV file, after checking the BOM that makes Excel read it as UTF-8."""
    assert raw.startswith(BOM), raw[:10]
    rows = csv.reader(io.StringIO(raw.decode("utf-8")[1:], newline=""))
    return [cell for row in rows for cell in row]


def assert_neutralised(raw: bytes, planted: tuple[str, ...] = FORMULAS) -> None:
    cells = cells_of(raw)
    assert [cell for cell in cells if cell.startswith(FORMULA_STARTS)] == []
    for text in planted:
        assert any(cell.startswith("'" + text) for cell in cells), (text, cells)


def body(response) -> bytes:
    assert response.status_code == 200, response.content
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


# --- the writer ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", FORMULAS)
def test_a_formula_cell_gets_a_leading_quote(text):
    assert safe_cell(text) == "'" + text
    assert safe_cell(safe_cell(text)) == "'" + text  # writing twice changes nothing more


@pytest.mark.parametrize("value", ["普通文本", "1+1", "a=b", "", 42, None])
def test_other_cells_are_written_as_they_are(value):
    assert safe_cell(value) == ("" if value is None else str(value))


def test_render_csv_writes_the_bom_then_every_line_whatever_the_chunks():
    header = ["名称", "=title"]
    rows = [[formula, index] for index, formula in enumerate(FORMULAS)]
    whole = "".join(render_csv(header, rows))
    assert "".join(render_csv(header, iter(rows), rows_per_chunk=4)) == whole
    assert whole.startswith("\ufeff")
    assert_neutralised(whole.encode())
    assert cells_of(whole.encode())[:4] == ["名称", "'=title", "'=cmd|' /C calc'!A0", "0"]


# --- every CSV the product writes ----------------------------------------------------------


@pytest.fixture
def crm(db):
    """The cast with one customer of rep_a's per formula, each with a contact, a follow-up and
    an opportunity of the same name."""
    cast = make_crm_cast()
    stage = Stage.objects.order_by("position").first()
    for text in FORMULAS:
        customer = make_customer(cast.rep_a, text, notes=text)
        Contact.objects.create(customer=customer, name=text)
        Interaction.objects.create(
            customer=customer,
            employee=cast.rep_a,
            kind="call",
            occurred_at=clock.now(),
            content=text,
        )
        Opportunity.objects.create(
            customer=customer,
            name=text,
            owner=cast.rep_a,
            owner_department=cast.rep_a.department,
            stage=stage,
            amount=1000,
        )
    return cast


def browser(employee) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(employee)
    return client


def test_customer_exports(crm):
    assert_neutralised(body(api_for(crm.head).get("/api/v1/customers/export.csv")))
    assert_neutralised(body(browser(crm.head).get("/customers/export/", {"download": "csv"})))


@pytest.mark.parametrize("kind", ["customers", "contacts", "interactions", "opportunities"])
def test_transfer_exports(crm, kind):
    answer = api_for(crm.head).get(f"/api/v1/exports/{kind}", {"format": "csv"})
    assert_neutralised(body(answer))


@pytest.mark.parametrize("kind", ["customers", "contacts", "employees"])
def test_import_templates_start_with_the_bom(crm, kind):
    importer = crm.admin if kind == "employees" else crm.head
    template = api_for(importer).get(f"/api/v1/imports/templates/{kind}", {"format": "csv"})
    assert_neutralised(body(template), planted=())


def test_the_access_review_report(crm):
    campaign = reviews.start_campaign(
        actor=crm.security_admin, scope="department", department=crm.sales
    )
    items = list(AccessReviewItem.objects.filter(campaign=campaign).order_by("pk"))
    assert len(items) >= 2
    # Comments are cleaned on the way in (no leading tab or CR); the report must hold whatever
    # is stored, so the cells are planted directly.
    for item, text in zip(items, FORMULAS, strict=False):
        AccessReviewItem.objects.filter(pk=item.pk).update(comment=text)
    planted = FORMULAS[: len(items)]
    raw = body(browser(crm.security_admin).get(f"/access/reviews/{campaign.pk}/report.csv"))
    assert_neutralised(raw, planted)


def test_the_handover_report(crm):
    successor = make_employee("接手人", roles=("sales",), department=crm.sales)
    done = offboarding.offboard_employee(crm.rep_a, actor=crm.admin, successor=successor)
    assert done.items.count() > len(FORMULAS)
    HandoverItem = type(done.items.first())
    HandoverItem.objects.filter(offboarding=done).update(note="@note")
    raw = body(browser(crm.admin).get(f"/employees/{crm.rep_a.employee_id}/offboarding/report.csv"))
    assert_neutralised(raw, (*FORMULAS, "@note"))
