"""Masked personal data, the audited reveal, audited reads, and fields a role hides."""

from __future__ import annotations

import json

from django.test import Client

from gonghao.access.models import Role
from gonghao.access.services import grant_role
from gonghao.audit.models import AuditEvent
from gonghao.crm.masking import mask, mask_email, mask_id_number, mask_phone
from gonghao.crm.models import Customer
from gonghao.testing.kit import api_for

BASE = "/api/v1/customers"
ID_NUMBER = "11010519491231002X"


def browser(employee, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(employee)
    return client


def customer_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action__startswith="customer.").order_by("seq"))


def hide(role_code: str, *fields: str) -> None:
    Role.objects.filter(code=role_code).update(hidden_fields=list(fields))


# --- masks -------------------------------------------------------------------------------------


def test_masks():
    assert mask_phone("+8613812341234") == "138****1234"
    assert mask_phone("13812341234") == "138****1234"
    assert mask_phone("+85261234567") == "852****4567"
    assert mask_phone("+8657188886666") == "571****6666"
    assert mask_phone("1234") == "****"
    assert mask_email("buyer@jia.example.cn") == "b***@jia.example.cn"
    assert mask_email("@example.cn") == "****@example.cn"
    assert mask_email("nodomain") == "***"
    assert mask_id_number(ID_NUMBER) == "110105********002X"
    assert mask_id_number("12345678") == "********"
    assert mask("phone", "") == ""
    for field, value in (("phone", "+8613812341234"), ("email", "buyer@jia.example.cn")):
        assert value not in mask(field, value)


# --- masked for everyone -----------------------------------------------------------------------


def test_list_and_detail_are_masked_for_everyone(crm):
    Customer.objects.filter(pk=crm.customer_a.pk).update(id_number=ID_NUMBER)
    expected = {
        "phone": "138****1234",
        "email": "b***@jia.example.cn",
        "id_number": "110105********002X",
    }
    for employee in (crm.rep_a, crm.head, crm.agent, crm.admin):
        api = api_for(employee)
        [item] = [
            i for i in api.get(BASE, {"q": "上海甲"}).json()["items"] if i["name"] == "上海甲公司"
        ]
        detail = api.get(f"{BASE}/{crm.customer_a.pk}").json()
        for data in (item, detail):
            assert {k: data[k] for k in expected} == expected, employee
        html = browser(employee).get(f"/customers/{crm.customer_a.pk}/").content.decode()
        assert "138****1234" in html and "110105********002X" in html
        assert "13812341234" not in html and "buyer@" not in html and ID_NUMBER not in html


# --- reveal ------------------------------------------------------------------------------------


def test_reveal_for_those_who_may_is_audited_without_the_value(crm):
    Customer.objects.filter(pk=crm.customer_b.pk).update(
        email="boss@yi.example.cn", id_number=ID_NUMBER
    )
    response = api_for(crm.rep_a).post(f"{BASE}/{crm.customer_a.pk}/reveal", {"fields": ["phone"]})
    assert response.status_code == 200
    assert response.json() == {"values": {"phone": "+8613812341234"}}

    response = api_for(crm.head).post(
        f"{BASE}/{crm.customer_b.pk}/reveal", {"fields": ["email", "id_number", "email"]}
    )
    assert response.status_code == 200
    assert response.json()["values"] == {"email": "boss@yi.example.cn", "id_number": ID_NUMBER}

    events = customer_events()
    assert [e.action for e in events] == ["customer.reveal", "customer.reveal"]
    assert events[0].actor_employee_id == crm.rep_a.employee_id
    assert events[0].params == {"field": "phone"}
    assert events[0].target_id == str(crm.customer_a.pk)
    assert events[1].params == {"field": "email,id_number"}
    for event in events:
        text = json.dumps([event.params, event.changes, event.target_label], ensure_ascii=False)
        for secret in ("13812341234", "boss@", ID_NUMBER):
            assert secret not in text


def test_reveal_is_refused_to_others_and_for_bad_fields(crm):
    path = f"{BASE}/{crm.customer_a.pk}/reveal"
    for employee, status in (
        (crm.agent, 403),
        (crm.admin, 403),
        (crm.marketer, 403),
        (crm.nobody, 403),
        (crm.rep_b, 404),  # not in rep_b's scope
        (crm.rep_c, 404),
    ):
        response = api_for(employee).post(path, {"fields": ["phone"]})
        assert response.status_code == status, employee
    api = api_for(crm.rep_a)
    for fields in (["name"], ["phone", "notes"], ["PHONE"], [], ["phone"] * 4, "phone"):
        response = api.post(path, {"fields": fields})
        assert response.status_code == 422, fields
        assert "fields" in response.json()["details"]["fields"]
    assert api.post(path, {}).status_code == 422
    assert customer_events() == []


# --- audited reads -----------------------------------------------------------------------------


def test_opening_a_customer_is_audited(crm, settings):
    api = api_for(crm.agent)
    assert api.get(f"{BASE}/{crm.customer_c.pk}").status_code == 200
    assert browser(crm.agent).get(f"/customers/{crm.customer_c.pk}/").status_code == 200
    events = customer_events()
    assert [e.action for e in events] == ["customer.view", "customer.view"]
    assert {e.actor_employee_id for e in events} == {crm.agent.employee_id}
    assert {e.target_id for e in events} == {str(crm.customer_c.pk)}
    # Lists are not reads of one record.
    api.get(BASE)
    browser(crm.agent).get("/customers/")
    assert len(customer_events()) == 2

    settings.GONGHAO_AUDIT_READS = False
    assert api.get(f"{BASE}/{crm.customer_c.pk}").status_code == 200
    assert browser(crm.agent).get(f"/customers/{crm.customer_c.pk}/").status_code == 200
    assert len(customer_events()) == 2


# --- field-level security ----------------------------------------------------------------------


def test_hidden_fields_are_absent_everywhere(crm):
    hide("customer_service", "customer.notes", "customer.level")
    api = api_for(crm.agent)
    detail = api.get(f"{BASE}/{crm.customer_a.pk}").json()
    assert "notes" not in detail and "level" not in detail
    assert detail["hidden_fields"] == ["level", "notes"]
    assert detail["address"] == "上海市浦东新区"  # not hidden
    for item in api.get(BASE).json()["items"]:
        assert "notes" not in item and "level" not in item
        assert item["hidden_fields"] == ["level", "notes"]
    # The rep's role hides nothing: the same record in full.
    rep_detail = api_for(crm.rep_a).get(f"{BASE}/{crm.customer_a.pk}").json()
    assert rep_detail["notes"] == "大客户" and rep_detail["level"] == "A"
    assert rep_detail["hidden_fields"] == []

    # Filtering and sorting on a hidden field are ignored: they cannot be used to probe it.
    everything = api.get(BASE).json()["count"]
    assert everything == 3
    assert api.get(BASE, {"level": "A"}).json()["count"] == everything
    assert api.get(BASE, {"level": "D"}).json()["count"] == everything
    assert api.get(BASE, {"sort": "level"}).json()["count"] == everything
    by_level = [i["name"] for i in api.get(BASE, {"sort": "level"}).json()["items"]]
    assert by_level == [i["name"] for i in api.get(BASE).json()["items"]]

    page = browser(crm.agent).get(f"/customers/{crm.customer_a.pk}/").content.decode()
    assert "大客户" not in page and "A (key account)" not in page
    assert ">Level<" not in page and ">Notes<" not in page
    assert "上海市浦东新区" in page
    listing = browser(crm.agent).get("/customers/").content.decode()
    assert "<th>Level</th>" not in listing
    rep_page = browser(crm.rep_a).get(f"/customers/{crm.customer_a.pk}/").content.decode()
    assert "大客户" in rep_page and "A (key account)" in rep_page


def test_hidden_phone_is_not_searchable_nor_revealable(crm):
    hide("customer_service", "customer.phone")
    api = api_for(crm.agent)
    assert api.get(BASE, {"q": "13712345678"}).json()["count"] == 0
    assert api.get(BASE, {"q": "北京"}).json()["count"] == 1
    assert "phone" not in api.get(f"{BASE}/{crm.customer_c.pk}").json()

    hide("sales", "customer.phone")
    response = api_for(crm.rep_a).post(f"{BASE}/{crm.customer_a.pk}/reveal", {"fields": ["phone"]})
    assert response.status_code == 422
    assert response.json()["code"] == "field_hidden"
    assert "customer.reveal" not in [e.action for e in customer_events()]


def test_hidden_fields_cannot_be_written(crm):
    hide("sales", "customer.notes", "customer.level")
    api = api_for(crm.rep_a)
    before = list(Customer.objects.order_by("pk").values())
    response = api.patch(f"{BASE}/{crm.customer_a.pk}", {"notes": "改备注", "industry": "零售"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "field_hidden"
    assert body["details"]["fields"] == {"notes": ["This field is not available to you."]}
    response = api.post(BASE, {"name": "新客户", "level": "A"})
    assert response.status_code == 422
    assert response.json()["code"] == "field_hidden"
    assert list(Customer.objects.order_by("pk").values()) == before
    assert customer_events() == []
    # Without the hidden fields the same writes pass.
    assert api.patch(f"{BASE}/{crm.customer_a.pk}", {"industry": "零售"}).status_code == 200
    assert api.post(BASE, {"name": "新客户"}).status_code == 201
    assert Customer.objects.get(pk=crm.customer_a.pk).notes == "大客户"


def test_a_role_that_shows_a_field_wins(crm):
    hide("customer_service", "customer.notes", "customer.level")
    grant_role(crm.agent, "sales", actor=None, check_permission=False)
    detail = api_for(crm.agent).get(f"{BASE}/{crm.customer_a.pk}").json()
    assert detail["notes"] == "大客户" and detail["level"] == "A"
    assert detail["hidden_fields"] == []
    # Both roles hiding a field: hidden.
    hide("sales", "customer.notes")
    detail = api_for(crm.agent).get(f"{BASE}/{crm.customer_a.pk}").json()
    assert "notes" not in detail and detail["level"] == "A"
    assert detail["hidden_fields"] == ["notes"]
