"""Opportunities API: the authorization matrix, creation rules, validation, hidden fields.

The rule: no opportunity.view at all → 403 whatever the record; an opportunity outside the
caller's scope (its own owner / department) → 404; in scope without the needed permission →
403. Every success writes its audit event; every refusal writes none.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from gonghao.crm.models import Opportunity, StageChange
from gonghao.testing.kit import ApiClient, api_for
from gonghao.testing.matrix import ROLES, answer_problem, each_in_savepoint

from .opportunity_kit import hide_for_sales, make_opps, pipeline_events

pytestmark = pytest.mark.django_db

# The opportunity (a/b/c) in and out of each caller's scope; callers without opportunity.view
# are refused whatever the record.
IN_SCOPE = {"head": "b", "rep_a": "a"}
OUT_OF_SCOPE = {"head": "c", "rep_a": "c"}
NO_ACCESS = ["admin", "security_admin", "auditor", "agent", "marketer", "nobody"]

API_EXPECTED: dict[tuple[str, str], dict[str, int]] = {
    ("list", "-"): {"head": 200, "rep_a": 200},
    ("create", "in"): {"head": 201, "rep_a": 201},
    ("create", "out"): {"head": 404, "rep_a": 404},
    ("detail", "in"): {"head": 200, "rep_a": 200},
    ("detail", "out"): {"head": 404, "rep_a": 404},
    ("update", "in"): {"head": 200, "rep_a": 200},
    ("update", "out"): {"head": 404, "rep_a": 404},
    ("delete", "in"): {"head": 204, "rep_a": 403},
    ("delete", "out"): {"head": 404, "rep_a": 404},
    ("move", "in"): {"head": 200, "rep_a": 200},
    ("move", "out"): {"head": 404, "rep_a": 404},
    ("history", "in"): {"head": 200, "rep_a": 200},
    ("history", "out"): {"head": 404, "rep_a": 404},
    # Stages: read by whoever works or configures the pipeline, written by pipeline.manage.
    ("stages", "-"): {"admin": 200, "head": 200, "rep_a": 200},
    ("stage_create", "-"): {"admin": 201},
    ("stage_update", "-"): {"admin": 200},
}

AUDIT_ON_SUCCESS = {
    "list": None,
    "create": "opportunity.create",
    "detail": None,
    "update": "opportunity.update",
    "delete": "opportunity.delete",
    "move": "opportunity.stage",
    "history": None,
    "stages": None,
    "stage_create": "stage.create",
    "stage_update": "stage.update",
}
REFUSAL_CODES = {"permission_denied", "opportunity_not_found", "customer_not_found"}


def _cases(role: str):
    for (operation, scope), expected in API_EXPECTED.items():
        if scope != "-" and role not in NO_ACCESS and role not in IN_SCOPE:
            continue
        status = expected.get(role, 403 if role in NO_ACCESS or scope == "-" else None)
        if status is not None:
            yield operation, scope, status


def _target(opps, role: str, scope: str) -> Opportunity:
    if role in NO_ACCESS or scope == "-":
        return opps.a  # any record: the answer must not depend on it
    return getattr(opps, IN_SCOPE[role] if scope == "in" else OUT_OF_SCOPE[role])


def _call(api, opportunity: Opportunity, operation: str):
    base = "/api/v1/opportunities"
    path = f"{base}/{opportunity.pk}"
    if operation == "list":
        return api.get(base)
    if operation == "create":
        return api.post(
            base, {"customer_id": opportunity.customer_id, "name": "新商机", "amount": "88.50"}
        )
    if operation == "detail":
        return api.get(path)
    if operation == "update":
        return api.patch(path, {"name": "改名的商机"})
    if operation == "delete":
        return api.delete(path)
    if operation == "move":
        return api.post(f"{path}/stage", {"stage": "proposal"})
    if operation == "history":
        return api.get(f"{path}/history")
    if operation == "stages":
        return api.get("/api/v1/pipeline/stages")
    if operation == "stage_create":
        return api.post(
            "/api/v1/pipeline/stages",
            {"code": "pilot", "name_zh": "试点", "name_en": "Pilot", "position": 35},
        )
    if operation == "stage_update":
        from gonghao.crm.models import Stage

        stage = Stage.objects.get(code="proposal")
        return api.patch(f"/api/v1/pipeline/stages/{stage.pk}", {"name_en": "Quote"})
    raise AssertionError(operation)


@pytest.fixture
def opps(crm):
    return make_opps(crm)


@pytest.mark.parametrize("role", ROLES)
def test_api_matrix(crm, opps, role):
    api = api_for(getattr(crm, role))

    def check(operation, scope, status):
        return answer_problem(
            lambda: _call(api, _target(opps, role, scope), operation),
            status,
            events=pipeline_events,
            on_success=AUDIT_ON_SUCCESS[operation],
            refusal_codes=REFUSAL_CODES,
        )

    cases = list(_cases(role))
    assert cases
    assert each_in_savepoint(cases, check) == []


@pytest.mark.parametrize("operation", sorted(AUDIT_ON_SUCCESS))
def test_api_anonymous_gets_401(crm, opps, operation):
    response = _call(ApiClient(), opps.a, operation)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_list_is_scoped_filtered_and_sorted(crm, opps):
    def names(api, **params):
        response = api.get("/api/v1/opportunities", params)
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["count"] == len(body["items"]) or "limit" in params
        return [item["name"] for item in body["items"]]

    head = api_for(crm.head)
    assert sorted(names(head)) == sorted([opps.a.name, opps.b.name])
    assert names(api_for(crm.rep_a)) == [opps.a.name]
    assert names(api_for(crm.rep_b)) == [opps.b.name]
    assert names(head, sort="-amount") == [opps.b.name, opps.a.name]
    assert names(head, sort="amount") == [opps.a.name, opps.b.name]
    assert names(head, q="云迁") == [opps.b.name]
    assert names(head, owner=crm.rep_a.employee_id) == [opps.a.name]
    assert names(head, customer_id=crm.customer_b.pk) == [opps.b.name]
    assert names(head, customer_id=crm.customer_c.pk) == []  # not theirs: nothing, no leak
    assert names(head, stage="proposal") == []
    Opportunity.objects.filter(pk=opps.a.pk).update(expected_close="2026-12-01")
    Opportunity.objects.filter(pk=opps.b.pk).update(expected_close="2027-03-01")
    assert names(head, closing_before="2026-12-31") == [opps.a.name]
    assert names(head, closing_after="2027-01-01") == [opps.b.name]
    page = head.get("/api/v1/opportunities", {"limit": 1, "offset": 1, "sort": "name"}).json()
    assert page["count"] == 2 and len(page["items"]) == 1
    bad = head.get("/api/v1/opportunities", {"owner": "nonsense"})
    assert bad.status_code == 422


def test_detail_shape(crm, opps):
    body = api_for(crm.rep_a).get(f"/api/v1/opportunities/{opps.a.pk}").json()
    assert body["name"] == opps.a.name
    assert body["amount"] == "1000.00"
    assert body["currency"] == "CNY"
    assert body["probability"] == 10
    assert body["stage"]["code"] == "initial"
    assert body["customer"] == {"id": crm.customer_a.pk, "name": "上海甲公司"}
    assert body["owner"]["employee_id"] == crm.rep_a.employee_id
    assert body["hidden_fields"] == []


def test_create_defaults_and_audit(crm):
    api = api_for(crm.rep_a)
    response = api.post(
        "/api/v1/opportunities",
        {"customer_id": crm.customer_a.pk, "name": "  年度采购  ", "amount": "12345.6"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    opportunity = Opportunity.objects.get(pk=body["id"])
    assert opportunity.name == "年度采购"
    assert opportunity.amount == Decimal("12345.60")
    assert opportunity.owner == crm.rep_a and opportunity.owner_department == crm.sales
    assert opportunity.created_by == crm.rep_a
    assert opportunity.stage.code == "initial" and opportunity.probability == 10
    assert opportunity.closed_at is None
    changes = list(StageChange.objects.filter(opportunity=opportunity))
    assert [(c.from_stage, c.to_stage.code, c.changed_by) for c in changes] == [
        (None, "initial", crm.rep_a)
    ]
    assert pipeline_events() == ["opportunity.create"]

    explicit = api.post(
        "/api/v1/opportunities",
        {
            "customer_id": crm.customer_a.pk,
            "name": "直接报价",
            "stage": "proposal",
            "probability": 60,
            "currency": "USD",
            "expected_close": "2027-01-15",
        },
    ).json()
    assert explicit["stage"]["code"] == "proposal" and explicit["probability"] == 60
    assert explicit["currency"] == "USD" and explicit["expected_close"] == "2027-01-15"


def test_create_for_another_owner_needs_them_in_reach(crm):
    base = "/api/v1/opportunities"
    rep_a = api_for(crm.rep_a)
    refused = rep_a.post(
        base, {"customer_id": crm.customer_a.pk, "name": "转给别人", "owner": crm.rep_b.employee_id}
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "owner_out_of_scope"
    head = api_for(crm.head)
    given = head.post(
        base, {"customer_id": crm.customer_b.pk, "name": "部门商机", "owner": crm.rep_b.employee_id}
    )
    assert given.status_code == 201
    assert given.json()["owner"]["employee_id"] == crm.rep_b.employee_id
    assert Opportunity.objects.get(pk=given.json()["id"]).owner_department == crm.sales_east
    outside = head.post(
        base, {"customer_id": crm.customer_b.pk, "name": "越界", "owner": crm.rep_c.employee_id}
    )
    assert outside.status_code == 403 and outside.json()["code"] == "owner_out_of_scope"
    unknown = head.post(base, {"customer_id": crm.customer_b.pk, "name": "x", "owner": "bogus"})
    assert unknown.status_code == 422
    assert pipeline_events() == ["opportunity.create"]
    assert Opportunity.objects.count() == 1


def test_create_needs_the_customer_visible(crm):
    response = api_for(crm.rep_a).post(
        "/api/v1/opportunities", {"customer_id": crm.customer_b.pk, "name": "别人的客户"}
    )
    assert response.status_code == 404
    assert response.json()["code"] == "customer_not_found"
    missing = api_for(crm.rep_a).post(
        "/api/v1/opportunities", {"customer_id": 987654, "name": "不存在"}
    )
    assert missing.status_code == 404
    assert not Opportunity.objects.exists() and pipeline_events() == []


BAD_CREATES = [
    ({"amount": "-1"}, "amount"),
    ({"amount": "1.234"}, "amount"),
    ({"amount": "1000000000000"}, "amount"),
    ({"amount": "NaN"}, "amount"),
    ({"currency": "XXX"}, "currency"),
    ({"probability": 101}, "probability"),
    ({"probability": -1}, "probability"),
    ({"expected_close": "31/12/2026"}, "expected_close"),
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"name": "坏\x01名字"}, "name"),
    ({"stage": "nowhere"}, "stage"),
    ({"colour": "red"}, "colour"),
]


@pytest.mark.parametrize(("change", "field"), BAD_CREATES)
def test_create_refuses_bad_input_and_stores_nothing(crm, change, field):
    body = {"customer_id": crm.customer_a.pk, "name": "好名字", **change}
    response = api_for(crm.rep_a).post("/api/v1/opportunities", body)
    assert response.status_code == 422, response.content
    assert field in response.json()["details"]["fields"]
    assert not Opportunity.objects.exists()
    assert not StageChange.objects.exists()
    assert pipeline_events() == []


def test_an_inactive_stage_is_refused(crm):
    from gonghao.crm.models import Stage

    Stage.objects.filter(code="needs").update(is_active=False)
    response = api_for(crm.rep_a).post(
        "/api/v1/opportunities", {"customer_id": crm.customer_a.pk, "name": "x", "stage": "needs"}
    )
    assert response.status_code == 422
    assert "stage" in response.json()["details"]["fields"]
    assert not Opportunity.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": "-5"}, "amount"),
        ({"amount": "0.001"}, "amount"),
        ({"amount": None}, "amount"),
        ({"name": None}, "name"),
        ({"name": "a\x7fb"}, "name"),
        ({"probability": 200}, "probability"),
        ({"currency": "GBP"}, "currency"),
        ({"stage": "won"}, "stage"),  # moves go through /stage
    ],
)
def test_update_refuses_bad_input_and_changes_nothing(crm, opps, change, field):
    response = api_for(crm.rep_a).patch(f"/api/v1/opportunities/{opps.a.pk}", change)
    assert response.status_code == 422, response.content
    assert field in response.json()["details"]["fields"]
    fresh = Opportunity.objects.get(pk=opps.a.pk)
    assert (fresh.name, fresh.amount, fresh.probability) == (opps.a.name, Decimal("1000.00"), 10)
    assert pipeline_events() == []


def test_update_records_before_and_after(crm, opps):
    api = api_for(crm.rep_a)
    path = f"/api/v1/opportunities/{opps.a.pk}"
    response = api.patch(path, {"amount": "1500", "expected_close": "2027-02-01"})
    assert response.status_code == 200
    assert response.json()["amount"] == "1500.00"
    from gonghao.audit.models import AuditEvent

    event = AuditEvent.objects.get(action="opportunity.update")
    assert event.changes == {
        "amount": ["1000.00", "1500.00"],
        "expected_close": [None, "2027-02-01"],
    }
    # Nothing changes: nothing written.
    assert api.patch(path, {"amount": "1500.00"}).status_code == 200
    assert pipeline_events() == ["opportunity.update"]


def test_transfer_through_patch_stays_in_reach(crm, opps):
    head = api_for(crm.head)
    path = f"/api/v1/opportunities/{opps.a.pk}"
    moved = head.patch(path, {"owner": crm.rep_b.employee_id})
    assert moved.status_code == 200
    fresh = Opportunity.objects.get(pk=opps.a.pk)
    assert fresh.owner == crm.rep_b and fresh.owner_department == crm.sales_east
    refused = head.patch(path, {"owner": crm.rep_c.employee_id})
    assert refused.status_code == 403 and refused.json()["code"] == "owner_out_of_scope"
    assert Opportunity.objects.get(pk=opps.a.pk).owner == crm.rep_b
    # rep_a no longer reaches it.
    assert api_for(crm.rep_a).get(path).status_code == 404


def test_delete_is_soft_and_hides_the_record(crm, opps):
    head = api_for(crm.head)
    path = f"/api/v1/opportunities/{opps.b.pk}"
    assert head.delete(path).status_code == 204
    assert Opportunity.objects.get(pk=opps.b.pk).deleted_at is not None
    assert head.get(path).status_code == 404
    assert head.delete(path).status_code == 404
    assert opps.b.name not in [i["name"] for i in head.get("/api/v1/opportunities").json()["items"]]
    assert pipeline_events() == ["opportunity.delete"]


# --- hidden fields -----------------------------------------------------------------------------


def test_hidden_amount_is_absent_and_cannot_be_written(crm, opps):
    hide_for_sales("amount")
    api = api_for(crm.rep_a)
    item = api.get("/api/v1/opportunities").json()["items"][0]
    assert "amount" not in item and item["hidden_fields"] == ["amount"]
    assert "probability" in item
    detail = api.get(f"/api/v1/opportunities/{opps.a.pk}").json()
    assert "amount" not in detail
    moved = api.post(f"/api/v1/opportunities/{opps.a.pk}/stage", {"stage": "needs"}).json()
    assert "amount" not in moved

    refused = api.patch(f"/api/v1/opportunities/{opps.a.pk}", {"amount": "1"})
    assert refused.status_code == 422 and refused.json()["code"] == "field_hidden"
    assert Opportunity.objects.get(pk=opps.a.pk).amount == Decimal("1000.00")
    created = api.post(
        "/api/v1/opportunities", {"customer_id": crm.customer_a.pk, "name": "x", "amount": "5"}
    )
    assert created.status_code == 422 and created.json()["code"] == "field_hidden"
    # Without the amount it works, and the amount stays the default.
    plain = api.post("/api/v1/opportunities", {"customer_id": crm.customer_a.pk, "name": "y"})
    assert plain.status_code == 201 and "amount" not in plain.json()
    # Sorting by a hidden field is ignored rather than leaking the order.
    assert api.get("/api/v1/opportunities", {"sort": "-amount"}).status_code == 200
    # The head's role still shows it.
    assert "amount" in api_for(crm.head).get(f"/api/v1/opportunities/{opps.a.pk}").json()


def test_hidden_probability_cannot_be_set_on_a_move(crm, opps):
    hide_for_sales("probability")
    api = api_for(crm.rep_a)
    path = f"/api/v1/opportunities/{opps.a.pk}/stage"
    refused = api.post(path, {"stage": "needs", "probability": 90})
    assert refused.status_code == 422 and refused.json()["code"] == "field_hidden"
    assert Opportunity.objects.get(pk=opps.a.pk).stage.code == "initial"
    moved = api.post(path, {"stage": "needs"})
    assert moved.status_code == 200 and "probability" not in moved.json()
    assert Opportunity.objects.get(pk=opps.a.pk).probability == 25
