"""Opportunity pages: the matrix of roles × pages, the board per role, moves by htmx, forms,
the customer fragment and the stage configuration page."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from gonghao.crm.models import Opportunity, Stage, StageChange
from gonghao.testing.matrix import NOT_CHECKED, ROLES, answer_problem, each_in_savepoint

from .opportunity_kit import hide_for_sales, make_opportunity, make_opps, pipeline_events

pytestmark = pytest.mark.django_db

IN_SCOPE = {"head": "b", "rep_a": "a"}
OUT_OF_SCOPE = {"head": "c", "rep_a": "c"}
NO_ACCESS = ["admin", "security_admin", "auditor", "agent", "marketer", "nobody"]

PAGE_EXPECTED: dict[tuple[str, str], dict[str, int]] = {
    ("list", "-"): {"head": 200, "rep_a": 200},
    ("board", "-"): {"head": 200, "rep_a": 200},
    ("new", "-"): {"head": 200, "rep_a": 200},
    ("new_for_customer", "in"): {"head": 200, "rep_a": 200},
    ("new_for_customer", "out"): {"head": 404, "rep_a": 404},
    ("detail", "in"): {"head": 200, "rep_a": 200},
    ("detail", "out"): {"head": 404, "rep_a": 404},
    ("edit", "in"): {"head": 200, "rep_a": 200},
    ("edit", "out"): {"head": 404, "rep_a": 404},
    ("move", "in"): {"head": 302, "rep_a": 302},
    ("move", "out"): {"head": 404, "rep_a": 404},
    ("delete", "in"): {"head": 302, "rep_a": 403},
    ("delete", "out"): {"head": 404, "rep_a": 404},
    ("customer_fragment", "in"): {"head": 200, "rep_a": 200},
    ("customer_fragment", "out"): {"head": 404, "rep_a": 404},
    ("stages", "-"): {"admin": 200},
}
AUDIT_ON_SUCCESS = {"move": "opportunity.stage", "delete": "opportunity.delete"}


def browser(employee, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(employee)
    return client


@pytest.fixture
def opps(crm):
    return make_opps(crm)


def _cases(role: str):
    for (operation, scope), expected in PAGE_EXPECTED.items():
        if scope != "-" and role not in NO_ACCESS and role not in IN_SCOPE:
            continue
        yield operation, scope, expected.get(role, 403)


def _target(opps, role: str, scope: str) -> Opportunity:
    if role in NO_ACCESS or scope == "-":
        return opps.a
    return getattr(opps, IN_SCOPE[role] if scope == "in" else OUT_OF_SCOPE[role])


def _call(client: Client, operation: str, opportunity: Opportunity):
    path = f"/opportunities/{opportunity.pk}/"
    if operation == "list":
        return client.get("/opportunities/")
    if operation == "board":
        return client.get("/opportunities/board/")
    if operation == "new":
        return client.get("/opportunities/new/")
    if operation == "new_for_customer":
        return client.get("/opportunities/new/", {"customer": opportunity.customer_id})
    if operation == "detail":
        return client.get(path)
    if operation == "edit":
        return client.get(f"{path}edit/")
    if operation == "move":
        return client.post(f"{path}move/", {"stage": "needs"})
    if operation == "delete":
        return client.post(f"{path}delete/")
    if operation == "customer_fragment":
        return client.get(f"/customers/{opportunity.customer_id}/opportunities/")
    if operation == "stages":
        return client.get("/opportunities/stages/")
    raise AssertionError(operation)


@pytest.mark.parametrize("role", ROLES)
def test_page_matrix(crm, opps, role):
    client = browser(getattr(crm, role))

    def check(operation, scope, status):
        return answer_problem(
            lambda: _call(client, operation, _target(opps, role, scope)),
            status,
            events=pipeline_events,
            on_success=AUDIT_ON_SUCCESS.get(operation, NOT_CHECKED),
        )

    assert each_in_savepoint(_cases(role), check) == []


@pytest.mark.parametrize("operation", sorted({op for op, _scope in PAGE_EXPECTED}))
def test_pages_anonymous_redirect_to_login(crm, opps, client, operation):
    response = _call(client, operation, opps.a)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_nav_shows_opportunities_to_those_who_may(crm):
    assert 'href="/opportunities/board/"' in browser(crm.rep_a).get("/").content.decode()
    assert 'href="/opportunities/board/"' not in browser(crm.agent).get("/").content.decode()
    html = browser(crm.admin).get("/").content.decode()
    assert 'href="/opportunities/stages/"' in html and 'href="/opportunities/board/"' not in html


# --- board -------------------------------------------------------------------------------------


def _columns(response) -> dict[str, tuple[int, list[str], list]]:
    return {
        column.stage.code: (column.count, [c.name for c in column.cards], column.totals)
        for column in response.context["columns"]
    }


def test_board_contents_per_role(crm, opps):
    make_opportunity(crm.customer_a, crm.rep_a, "甲公司二期", "500.50", stage="proposal")
    make_opportunity(crm.customer_a, crm.rep_a, "美元单", "10", stage="proposal", currency="USD")

    head = browser(crm.head).get("/opportunities/board/")
    columns = _columns(head)
    assert list(columns) == ["initial", "needs", "proposal", "negotiation", "won", "lost"]
    count, names, totals = columns["initial"]
    assert count == 2 and sorted(names) == sorted([opps.a.name, opps.b.name])
    assert totals == [("CNY", Decimal("3000.00"))]
    assert columns["proposal"][0] == 2
    assert columns["proposal"][2] == [("CNY", Decimal("500.50")), ("USD", Decimal("10.00"))]
    html = head.content.decode()
    assert "CNY 3,000.00" in html and opps.c.name not in html
    assert f'href="/opportunities/{opps.a.pk}/"' in html
    assert f'hx-post="/opportunities/{opps.b.pk}/move/"' in html

    rep_a = _columns(browser(crm.rep_a).get("/opportunities/board/"))
    assert rep_a["initial"][:2] == (1, [opps.a.name])
    assert rep_a["initial"][2] == [("CNY", Decimal("1000.00"))]
    rep_c = browser(crm.rep_c).get("/opportunities/board/")
    assert _columns(rep_c)["initial"][:2] == (1, [opps.c.name])
    assert opps.a.name not in rep_c.content.decode()


def test_board_hides_totals_from_those_who_cannot_see_amounts(crm, opps):
    hide_for_sales("amount")
    response = browser(crm.rep_a).get("/opportunities/board/")
    html = response.content.decode()
    assert response.context["show_amount"] is False
    assert _columns(response)["initial"][:2] == (1, [opps.a.name])
    assert _columns(response)["initial"][2] == []
    assert "1,000.00" not in html and "1000" not in html and 'data-testid="total"' not in html
    detail = browser(crm.rep_a).get(f"/opportunities/{opps.a.pk}/").content.decode()
    assert "1,000.00" not in detail and 'data-testid="amount"' not in detail
    listing = browser(crm.rep_a).get("/opportunities/").content.decode()
    assert "1,000.00" not in listing and "Largest amount" not in listing
    fragment = browser(crm.rep_a).get(f"/customers/{crm.customer_a.pk}/opportunities/")
    assert "1,000.00" not in fragment.content.decode()
    form = browser(crm.rep_a).get(f"/opportunities/{opps.a.pk}/edit/")
    assert "amount" not in form.context["form"].fields
    # The head still sees it.
    assert "CNY 3,000.00" in browser(crm.head).get("/opportunities/board/").content.decode()


def test_moving_a_card_by_htmx_returns_the_refreshed_board(crm, opps):
    client = browser(crm.head)
    response = client.post(
        f"/opportunities/{opps.b.pk}/move/",
        {"stage": "negotiation"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith('<div id="board">') and "<html" not in html
    columns = _columns(response)
    assert columns["negotiation"][1] == [opps.b.name]
    assert columns["initial"][1] == [opps.a.name]
    fresh = Opportunity.objects.get(pk=opps.b.pk)
    assert fresh.stage.code == "negotiation" and fresh.probability == 75
    assert StageChange.objects.filter(opportunity=opps.b).count() == 2
    assert pipeline_events() == ["opportunity.stage"]

    refused = client.post(
        f"/opportunities/{opps.b.pk}/move/", {"stage": "nowhere"}, headers={"HX-Request": "true"}
    )
    assert refused.status_code == 200
    assert 'data-testid="board-error"' in refused.content.decode()
    assert pipeline_events() == ["opportunity.stage"]


def test_moving_from_the_detail_page_and_history(crm, opps):
    client = browser(crm.rep_a)
    response = client.post(f"/opportunities/{opps.a.pk}/move/", {"stage": "won", "next": "detail"})
    assert response.status_code == 302 and response.url == f"/opportunities/{opps.a.pk}/"
    page = client.get(f"/opportunities/{opps.a.pk}/")
    assert [c.to_stage.code for c in page.context["history"]] == ["initial", "won"]
    html = page.content.decode()
    assert "Initial contact" in html and "Won" in html
    assert Opportunity.objects.get(pk=opps.a.pk).closed_at is not None
    chinese = browser(crm.rep_a, "zh-hans").get(f"/opportunities/{opps.a.pk}/")
    assert "初步接洽" in chinese.content.decode() and "赢单" in chinese.content.decode()


# --- list --------------------------------------------------------------------------------------


def test_list_filters_sorts_and_paginates(crm, opps):
    for index in range(30):
        make_opportunity(crm.customer_a, crm.rep_a, f"批量商机{index:02d}", str(index))
    client = browser(crm.rep_a)
    response = client.get("/opportunities/")
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 31
    assert len(response.context["page"].object_list) == 25
    second = client.get("/opportunities/", {"page": 2, "sort": "name"})
    assert len(second.context["page"].object_list) == 6
    assert "sort=name" in second.content.decode()
    found = client.get("/opportunities/", {"q": "ERP"})
    assert [o.name for o in found.context["page"].object_list] == [opps.a.name]
    top = client.get("/opportunities/", {"sort": "-amount"}).context["page"].object_list[0]
    assert top.name == opps.a.name
    staged = client.get("/opportunities/", {"stage": "needs"})
    assert staged.context["page"].paginator.count == 0
    partial = client.get("/opportunities/", {"q": "ERP"}, headers={"HX-Request": "true"})
    html = partial.content.decode()
    assert html.lstrip().startswith("<table") and "<html" not in html


# --- forms -------------------------------------------------------------------------------------


def test_create_from_the_form(crm):
    client = browser(crm.rep_a)
    page = client.get("/opportunities/new/")
    choices = dict(page.context["chooser"].fields["customer"].choices)
    assert choices == {crm.customer_a.pk: "上海甲公司"}
    response = client.post(
        "/opportunities/new/",
        {
            "customer": crm.customer_a.pk,
            "name": "表单商机",
            "stage": "needs",
            "amount": "2500.5",
            "currency": "CNY",
            "expected_close": "2027-01-31",
        },
    )
    assert response.status_code == 302
    opportunity = Opportunity.objects.get(name="表单商机")
    assert response.url == f"/opportunities/{opportunity.pk}/"
    assert opportunity.stage.code == "needs" and opportunity.probability == 25
    assert opportunity.amount == Decimal("2500.50")
    assert pipeline_events() == ["opportunity.create"]


def test_create_for_a_given_customer(crm):
    client = browser(crm.rep_a)
    response = client.post(
        f"/opportunities/new/?customer={crm.customer_a.pk}",
        {"name": "指定客户", "stage": "initial", "currency": "EUR"},
    )
    assert response.status_code == 302
    assert Opportunity.objects.get(name="指定客户").customer == crm.customer_a


def test_form_errors_are_shown_beside_the_fields_and_nothing_is_stored(crm):
    client = browser(crm.rep_a)
    response = client.post(
        f"/opportunities/new/?customer={crm.customer_a.pk}",
        {"name": "坏\x01名", "stage": "initial", "currency": "CNY", "amount": "-3"},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "amount" in form.errors
    response = client.post(
        f"/opportunities/new/?customer={crm.customer_a.pk}",
        {"name": "坏\x01名", "stage": "initial", "currency": "CNY", "amount": "3"},
    )
    assert response.status_code == 200
    assert "Control characters are not allowed." in response.context["form"].errors["name"]
    assert 'class="invalid-feedback d-block"' in response.content.decode()
    assert not Opportunity.objects.exists() and pipeline_events() == []


def test_edit_from_the_form(crm, opps):
    client = browser(crm.rep_a)
    page = client.get(f"/opportunities/{opps.a.pk}/edit/")
    assert page.context["form"].initial["name"] == opps.a.name
    assert "stage" not in page.context["form"].fields
    response = client.post(
        f"/opportunities/{opps.a.pk}/edit/",
        {
            "name": "甲公司ERP项目（二期）",
            "amount": "1000.00",
            "currency": "CNY",
            "probability": 30,
        },
    )
    assert response.status_code == 302
    fresh = Opportunity.objects.get(pk=opps.a.pk)
    assert fresh.name == "甲公司ERP项目（二期）" and fresh.probability == 30
    assert fresh.amount == Decimal("1000.00")
    assert pipeline_events() == ["opportunity.update"]


def test_delete_from_the_detail_page(crm, opps):
    client = browser(crm.head)
    html = client.get(f"/opportunities/{opps.b.pk}/").content.decode()
    assert f'action="/opportunities/{opps.b.pk}/delete/"' in html
    assert f'action="/opportunities/{opps.a.pk}/delete/"' not in (
        browser(crm.rep_a).get(f"/opportunities/{opps.a.pk}/").content.decode()
    )
    response = client.post(f"/opportunities/{opps.b.pk}/delete/")
    assert response.status_code == 302 and response.url == "/opportunities/"
    assert client.get(f"/opportunities/{opps.b.pk}/").status_code == 404


# --- customer fragment -------------------------------------------------------------------------


def test_customer_fragment_lists_what_the_viewer_may_see(crm, opps):
    # rep_b's opportunity on rep_a's customer: the customer is rep_a's, the opportunity is not.
    other = make_opportunity(crm.customer_a, crm.rep_b, "李四跟的甲公司单", "7")
    url = f"/customers/{crm.customer_a.pk}/opportunities/"
    response = browser(crm.rep_a).get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and 'data-testid="customer-opportunities"' in html
    assert [o.name for o in response.context["rows"]] == [opps.a.name]
    assert f"/opportunities/new/?customer={crm.customer_a.pk}" in html
    head = browser(crm.head).get(url)
    assert sorted(o.name for o in head.context["rows"]) == sorted([opps.a.name, other.name])
    assert browser(crm.rep_b).get(url).status_code == 404  # cannot see the customer


# --- stage configuration page ------------------------------------------------------------------


def test_stage_page_adds_and_edits_stages(crm, opps):
    client = browser(crm.admin)
    page = client.get("/opportunities/stages/")
    assert [s.code for s in page.context["stages"]][:2] == ["initial", "needs"]
    added = client.post(
        "/opportunities/stages/",
        {
            "code": "pilot",
            "name_zh": "试点",
            "name_en": "Pilot",
            "position": 35,
            "probability": 60,
            "is_active": "on",
        },
    )
    assert added.status_code == 302
    pilot = Stage.objects.get(code="pilot")
    assert pilot.is_active and pilot.probability == 60
    duplicate = client.post(
        "/opportunities/stages/",
        {"code": "pilot", "name_zh": "x", "name_en": "x", "position": 1, "probability": 1},
    )
    assert duplicate.status_code == 200
    assert "Another stage already has this code." in duplicate.content.decode()

    initial = Stage.objects.get(code="initial")
    edit_page = client.get("/opportunities/stages/", {"edit": initial.pk})
    assert edit_page.context["editing"] == initial
    refused = client.post(
        "/opportunities/stages/",
        {
            "stage_id": initial.pk,
            "code": "initial",
            "name_zh": "初步接洽",
            "name_en": "Initial contact",
            "position": 10,
            "probability": 10,
        },  # is_active unchecked: switch it off, but opportunities sit in it
    )
    assert refused.status_code == 200
    assert "Open opportunities are in this stage" in refused.content.decode()
    assert Stage.objects.get(pk=initial.pk).is_active
    renamed = client.post(
        "/opportunities/stages/",
        {
            "stage_id": pilot.pk,
            "code": "pilot",
            "name_zh": "试点",
            "name_en": "Pilot project",
            "position": 35,
            "probability": 60,
            "is_active": "on",
        },
    )
    assert renamed.status_code == 302
    assert Stage.objects.get(pk=pilot.pk).name_en == "Pilot project"
    assert pipeline_events() == ["stage.create", "stage.update"]
    assert client.get("/opportunities/stages/", {"edit": "987654"}).status_code == 404
