"""The customers API: create, validate, change, delete and restore, transfer, list and filter."""

from __future__ import annotations

import json

import pytest
from django.utils import translation

from gonghao.audit.models import AuditEvent
from gonghao.crm.models import Customer
from gonghao.testing.crm import make_customer
from gonghao.testing.kit import api_for, make_employee

pytestmark = pytest.mark.django_db

BASE = "/api/v1/customers"


def customer_events(since: int = 0) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(action__startswith="customer.", seq__gt=since).order_by("seq")
    )


def last_seq() -> int:
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def stored() -> tuple:
    return (
        list(Customer.objects.order_by("pk").values()),
        AuditEvent.objects.filter(action__startswith="customer.").count(),
    )


# --- create ------------------------------------------------------------------------------------


def test_create_defaults_the_owner_to_the_caller_and_normalises(crm):
    api = api_for(crm.rep_a)
    response = api.post(
        BASE,
        {
            "name": "  苏州新客户有限公司 ",
            "phone": "138 0013 8000",
            "email": "Li.Ming@Example.CN",
            "id_number": "11010519491231002x",
            "tags": "VIP， 重点;VIP ,  ；制造",
            "level": "B",
            "source": "website",
            "kind": "company",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["owner"]["employee_id"] == crm.rep_a.employee_id
    assert body["owner_department_id"] == crm.sales.pk
    assert body["name"] == "苏州新客户有限公司"
    assert body["status"] == "lead"
    assert body["phone"] == "138****8000"
    assert body["email"] == "l***@example.cn"
    assert body["id_number"] == "110105********002X"
    assert body["tags"] == "VIP,重点,制造"
    customer = Customer.objects.get(pk=body["id"])
    assert customer.phone == "+8613800138000"
    assert customer.phone_digits == "13800138000"
    assert customer.email == "li.ming@example.cn"
    assert customer.id_number == "11010519491231002X"
    assert customer.created_by == crm.rep_a

    [event] = customer_events()
    assert event.action == "customer.create"
    assert event.actor_employee_id == crm.rep_a.employee_id
    assert event.target_id == str(customer.pk)
    assert event.changes["name"] == [None, "苏州新客户有限公司"]
    assert event.changes["phone"] == [None, "138****8000"]
    assert event.changes["owner"] == [None, crm.rep_a.employee_id]

    # Searchable by any run of digits, whatever the spacing typed.
    for q in ("0013 8000", "13800138000", "138-0013"):
        found = api.get(BASE, {"q": q}).json()
        assert [item["id"] for item in found["items"]] == [customer.pk], q


def test_create_with_an_owner_in_scope(crm):
    response = api_for(crm.head).post(BASE, {"name": "华东新客户", "owner": crm.rep_b.employee_id})
    assert response.status_code == 201
    assert response.json()["owner"]["employee_id"] == crm.rep_b.employee_id
    assert response.json()["owner_department_id"] == crm.sales_east.pk
    assert Customer.objects.get(name="华东新客户").created_by == crm.head


def test_create_refuses_owners_outside_scope_or_inactive(crm):
    departed = make_employee("离职销售", roles=("sales",), department=crm.sales, status="departed")
    rep_api = api_for(crm.rep_a)
    head_api = api_for(crm.head)
    before = stored()

    response = rep_api.post(BASE, {"name": "给别人", "owner": crm.rep_c.employee_id})
    assert response.status_code == 403
    assert response.json()["code"] == "owner_out_of_scope"
    assert "outside your scope" in response.json()["message"]
    # "own" scope: not even the rep's own subordinate.
    response = rep_api.post(BASE, {"name": "给下属", "owner": crm.rep_b.employee_id})
    assert response.json()["code"] == "owner_out_of_scope"
    response = head_api.post(BASE, {"name": "给客服", "owner": crm.rep_c.employee_id})
    assert response.json()["code"] == "owner_out_of_scope"

    response = head_api.post(BASE, {"name": "给离职", "owner": departed.employee_id})
    assert response.status_code == 422
    assert response.json()["details"]["fields"]["owner"] == [
        "The owner must be an active employee."
    ]
    for owner in ("E12", "不是工号"):
        response = head_api.post(BASE, {"name": "坏工号", "owner": owner})
        assert response.status_code == 422
        assert "owner" in response.json()["details"]["fields"]
    assert stored() == before


def test_create_refuses_bad_input_with_field_errors(crm):
    api = api_for(crm.rep_a)
    before = stored()
    cases = [
        ({"name": ""}, "name", None),
        ({"name": "   "}, "name", "A name is required."),
        ({"name": "名" * 201}, "name", None),
        ({"name": "甲\x07公司"}, "name", "Control characters are not allowed."),
        (
            {"name": "甲公司", "address": "上海\x00浦东"},
            "address",
            "Control characters are not allowed.",
        ),
        ({"name": 123}, "name", None),
        ({"name": "甲公司", "kind": "robot"}, "kind", None),
        ({"name": "甲公司", "level": "Z"}, "level", "Choose one of: A, B, C, D"),
        ({"name": "甲公司", "source": "tv"}, "source", None),
        ({"name": "甲公司", "status": "vip"}, "status", None),
        ({"name": "甲公司", "phone": "12345"}, "phone", "Not a valid phone number."),
        ({"name": "甲公司", "phone": "1380013800"}, "phone", "Not a valid phone number."),
        ({"name": "甲公司", "phone": "电话号码"}, "phone", "Not a valid phone number."),
        ({"name": "甲公司", "email": "not-an-email"}, "email", "Not a valid e-mail address."),
        ({"name": "甲公司", "email": "a@b"}, "email", "Not a valid e-mail address."),
        ({"name": "甲公司", "id_number": "110105194912310021"}, "id_number", "check digit"),
        ({"name": "甲公司", "id_number": "11010519491231002"}, "id_number", "check digit"),
        ({"name": "甲公司", "id_number": "A10105194912310021"}, "id_number", "check digit"),
        ({"name": "甲公司", "colour": "red"}, "colour", None),
    ]
    for payload, field, message in cases:
        response = api.post(BASE, payload)
        assert response.status_code == 422, (payload, response.content)
        body = response.json()
        assert body["code"] == "validation_error"
        assert field in body["details"]["fields"], (payload, body)
        if message:
            assert message in " ".join(body["details"]["fields"][field]), (payload, body)
    # Several problems at once are all reported.
    response = api.post(BASE, {"name": "甲公司", "phone": "1", "email": "x", "level": "Q"})
    assert set(response.json()["details"]["fields"]) == {"phone", "email", "level"}
    assert stored() == before


def test_create_needs_the_permission(crm):
    before = stored()
    for employee in (crm.agent, crm.marketer, crm.admin, crm.nobody):
        assert api_for(employee).post(BASE, {"name": "越权客户"}).status_code == 403
    assert stored() == before


# --- change ------------------------------------------------------------------------------------


def test_patch_changes_only_the_given_fields_and_audits_masked(crm):
    api = api_for(crm.rep_a)
    path = f"{BASE}/{crm.customer_a.pk}"
    response = api.patch(
        path, {"industry": "制造业", "phone": "139-0000-1111", "email": "New@jia.example.cn"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["industry"] == "制造业"
    assert body["phone"] == "139****1111"
    assert body["notes"] == "大客户"  # untouched
    customer = Customer.objects.get(pk=crm.customer_a.pk)
    assert (customer.phone, customer.phone_digits) == ("+8613900001111", "13900001111")
    assert customer.email == "new@jia.example.cn"
    assert customer.updated_by == crm.rep_a
    [event] = customer_events()
    assert event.action == "customer.update"
    assert event.changes == {
        "industry": ["", "制造业"],
        "phone": ["138****1234", "139****1111"],
        "email": ["b***@jia.example.cn", "n***@jia.example.cn"],
    }

    # The same values written again, in another spelling: no change, no event.
    response = api.patch(path, {"industry": " 制造业 ", "phone": "+86 139 0000 1111"})
    assert response.status_code == 200
    response = api.patch(path, {})
    assert response.status_code == 200
    assert len(customer_events()) == 1

    before = stored()
    for payload, field in (
        ({"name": ""}, "name"),
        ({"name": "  "}, "name"),
        ({"phone": "12"}, "phone"),
        ({"level": "AA"}, "level"),
        ({"owner": crm.rep_b.employee_id}, "owner"),
        ({"deleted_at": None}, "deleted_at"),
    ):
        response = api.patch(path, payload)
        assert response.status_code == 422, payload
        assert field in response.json()["details"]["fields"]
    assert stored() == before


def test_no_clear_personal_data_reaches_the_audit_log(crm):
    rep_api = api_for(crm.rep_a)
    head_api = api_for(crm.head)
    response = rep_api.post(
        BASE,
        {
            "name": "隐私测试公司",
            "phone": "13655556666",
            "email": "secret.person@example.cn",
            "id_number": "11010519491231002X",
        },
    )
    customer_id = response.json()["id"]
    path = f"{BASE}/{customer_id}"
    rep_api.patch(path, {"phone": "13677778888", "email": "other.person@example.cn"})
    rep_api.patch(path, {"phone": "", "id_number": ""})
    rep_api.get(path)
    rep_api.post(f"{path}/reveal", {"fields": ["email"]})
    head_api.post(f"{path}/reveal", {"fields": ["phone", "id_number"]})
    head_api.get(f"{BASE}/export.csv")
    head_api.post(f"{path}/transfer", {"owner": crm.rep_b.employee_id})
    head_api.delete(path)
    actions = [e.action for e in customer_events()]
    assert actions == [
        "customer.create",
        "customer.update",
        "customer.update",
        "customer.view",
        "customer.reveal",
        "customer.reveal",
        "customer.export",
        "customer.transfer",
        "customer.delete",
    ]
    secrets = ["13655556666", "13677778888", "secret.person", "other.person", "19491231"]
    for event in AuditEvent.objects.all():
        text = json.dumps([event.params, event.changes, event.target_label], ensure_ascii=False)
        for secret in secrets:
            assert secret not in text, (event.action, text)


# --- delete, restore ---------------------------------------------------------------------------


def test_soft_delete_hides_and_the_administrator_restores(crm):
    head_api = api_for(crm.head)
    path = f"{BASE}/{crm.customer_b.pk}"
    assert head_api.delete(path).status_code == 204
    customer = Customer.objects.get(pk=crm.customer_b.pk)
    assert customer.deleted_at is not None and customer.deleted_by == crm.head

    assert "杭州乙公司" not in {i["name"] for i in head_api.get(BASE).json()["items"]}
    assert head_api.get(BASE).json()["count"] == 1
    for response in (
        head_api.get(path),
        head_api.patch(path, {"industry": "x"}),
        head_api.delete(path),
        head_api.post(f"{path}/transfer", {"owner": crm.rep_a.employee_id}),
        api_for(crm.rep_b).get(path),
    ):
        assert response.status_code == 404
        assert response.json()["code"] == "customer_not_found"

    admin_api = api_for(crm.admin)
    response = admin_api.post(f"{path}/restore")
    assert response.status_code == 200
    assert response.json()["deleted_at"] is None
    assert "杭州乙公司" in {i["name"] for i in head_api.get(BASE).json()["items"]}
    assert admin_api.post(f"{path}/restore").status_code == 404  # not deleted any more
    assert admin_api.post(f"{BASE}/999999/restore").status_code == 404
    events = customer_events()
    assert [e.action for e in events] == ["customer.delete", "customer.restore"]
    assert events[0].actor_employee_id == crm.head.employee_id
    assert events[1].actor_employee_id == crm.admin.employee_id


# --- transfer ----------------------------------------------------------------------------------


def test_transfer_moves_owner_and_department_and_is_audited(crm):
    head_api = api_for(crm.head)
    path = f"{BASE}/{crm.customer_a.pk}"
    response = head_api.post(f"{path}/transfer", {"owner": crm.rep_b.employee_id})
    assert response.status_code == 200, response.content
    assert response.json()["owner"]["employee_id"] == crm.rep_b.employee_id
    assert response.json()["owner_department_id"] == crm.sales_east.pk
    customer = Customer.objects.get(pk=crm.customer_a.pk)
    assert (customer.owner, customer.owner_department) == (crm.rep_b, crm.sales_east)
    [event] = customer_events()
    assert event.action == "customer.transfer"
    assert event.params == {"from": crm.rep_a.employee_id, "to": crm.rep_b.employee_id}
    assert event.changes["owner"] == [crm.rep_a.employee_id, crm.rep_b.employee_id]
    assert event.changes["owner_department"] == [crm.sales.pk, crm.sales_east.pk]
    with translation.override("en"):
        assert event.summary == (
            f"Transferred customer 上海甲公司 from {crm.rep_a.employee_id} "
            f"to {crm.rep_b.employee_id}"
        )
    # The new owner sees it; the old one no longer does.
    assert api_for(crm.rep_b).get(path).status_code == 200
    assert api_for(crm.rep_a).get(path).status_code == 404

    # To the same owner: nothing to do, nothing written.
    seq = last_seq()
    assert head_api.post(f"{path}/transfer", {"owner": crm.rep_b.employee_id}).status_code == 200
    assert customer_events(since=seq) == []

    departed = make_employee("离职", roles=("sales",), department=crm.sales, status="departed")
    before = stored()
    response = head_api.post(f"{path}/transfer", {"owner": crm.rep_c.employee_id})
    assert response.status_code == 403
    assert response.json()["code"] == "owner_out_of_scope"
    response = head_api.post(f"{path}/transfer", {"owner": departed.employee_id})
    assert response.status_code == 422
    for owner in ("E1", ""):
        assert head_api.post(f"{path}/transfer", {"owner": owner}).status_code == 422
    assert head_api.post(f"{path}/transfer", {}).status_code == 422
    assert stored() == before


# --- list --------------------------------------------------------------------------------------


def test_list_filters_sort_and_paginate(crm):
    make_customer(
        crm.rep_a,
        "Acme Ltd",
        status="active",
        level="A",
        source="referral",
        kind="company",
        tags="VIP,制造",
    )
    make_customer(
        crm.rep_b,
        "Beta Ltd",
        status="active",
        level="C",
        source="website",
        kind="person",
        tags="制造",
    )
    make_customer(
        crm.rep_a,
        "Gamma Ltd",
        status="lost",
        level="C",
        source="referral",
        kind="person",
        tags="VIPX",
    )
    make_customer(crm.rep_c, "Delta Ltd", status="active", level="A")  # outside head's scope
    api = api_for(crm.head)

    def names(**params) -> list[str]:
        body = api.get(BASE, params).json()
        assert body["count"] == len(body["items"]) or "limit" in params
        return [item["name"] for item in body["items"]]

    assert set(names(status="active")) == {"Acme Ltd", "Beta Ltd"}
    assert set(names(level="C")) == {"Beta Ltd", "Gamma Ltd"}
    assert set(names(level="A")) == {"Acme Ltd", "上海甲公司"}
    assert set(names(source="referral")) == {"Acme Ltd", "Gamma Ltd"}
    assert set(names(kind="person")) == {"Beta Ltd", "Gamma Ltd"}
    assert set(names(owner=crm.rep_b.employee_id)) == {"Beta Ltd", "杭州乙公司"}
    assert set(names(department_id=crm.sales_east.pk)) == {"Beta Ltd", "杭州乙公司"}
    assert set(names(tag="制造")) == {"Acme Ltd", "Beta Ltd"}
    assert set(names(status="active", level="A", tag="VIP")) == {"Acme Ltd"}
    assert names(q="Ltd", sort="name") == ["Acme Ltd", "Beta Ltd", "Gamma Ltd"]
    assert names(q="Ltd", sort="-name") == ["Gamma Ltd", "Beta Ltd", "Acme Ltd"]
    assert names(q="Ltd", sort="created") == ["Acme Ltd", "Beta Ltd", "Gamma Ltd"]
    assert names(q="Ltd", sort="-created") == ["Gamma Ltd", "Beta Ltd", "Acme Ltd"]
    assert names(q="ltd", sort="level")[0] == "Acme Ltd"
    assert names(q="Ltd", sort="no-such") != []  # an unknown sort falls back to the default

    all_names = names(sort="name")
    assert len(all_names) == 5
    page = api.get(BASE, {"sort": "name", "limit": 2, "offset": 2}).json()
    assert page["count"] == 5
    assert [item["name"] for item in page["items"]] == all_names[2:4]
    last = api.get(BASE, {"sort": "name", "limit": 2, "offset": 4}).json()
    assert last["count"] == 5 and len(last["items"]) == 1
    beyond = api.get(BASE, {"sort": "name", "limit": 2, "offset": 50}).json()
    assert beyond == {"items": [], "count": 5, "count_capped": False, "sort": "name"}

    assert api.get(BASE, {"owner": "E12"}).status_code == 422
    assert api.get(BASE, {"department_id": 0}).status_code == 422


def test_customer_event_summaries_in_english(crm):
    rep_api = api_for(crm.rep_a)
    head_api = api_for(crm.head)
    customer_id = rep_api.post(BASE, {"name": "上海丁公司", "phone": "13800138000"}).json()["id"]
    path = f"{BASE}/{customer_id}"
    rep_api.patch(path, {"industry": "零售"})
    rep_api.get(path)
    rep_api.post(f"{path}/reveal", {"fields": ["phone"]})
    head_api.get(f"{BASE}/export.csv", {"q": "上海"})
    head_api.delete(path)
    api_for(crm.admin).post(f"{path}/restore")
    with translation.override("en"):
        summaries = [e.summary for e in customer_events()]
    assert summaries == [
        "Added customer 上海丁公司",
        "Edited customer 上海丁公司",
        "Viewed customer 上海丁公司",
        "Revealed the phone of customer 上海丁公司",
        "Exported 2 customers",
        "Deleted customer 上海丁公司",
        "Restored customer 上海丁公司",
    ]
    with translation.override("zh-hans"):
        assert customer_events()[0].summary != summaries[0]
