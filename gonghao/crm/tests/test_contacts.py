"""Contacts: every role × endpoint and page × in / out of scope; masking, reveal, validation."""

from __future__ import annotations

import pytest
from django.test import Client

from gonghao.audit.models import AuditEvent
from gonghao.crm import contacts as contact_services
from gonghao.crm.models import Contact
from gonghao.testing.kit import ApiClient, api_for
from gonghao.testing.matrix import (
    CUSTOMER_REFUSAL_CODES,
    CUSTOMER_SCOPES,
    ROLES,
    answer_problem,
    customer_target,
    each_in_savepoint,
)


def make_contact(customer, name: str = "李经理", **fields) -> Contact:
    """A contact row without the service (no audit): a fixture, not an action."""
    fields.setdefault("phone", "+8613800138000")
    fields.setdefault("email", "li@jia.example.cn")
    fields.setdefault("wechat", "li_wx_2024")
    return Contact.objects.create(customer=customer, name=name, **fields)


@pytest.fixture
def people(crm):
    """One contact on each customer: the customer's primary contact."""
    return {
        name: make_contact(getattr(crm, name), is_primary=True)
        for name in ("customer_a", "customer_b", "customer_c")
    }


def _events(prefix: str = "contact.") -> list[str]:
    return list(
        AuditEvent.objects.filter(action__startswith=prefix)
        .order_by("seq")
        .values_list("action", flat=True)
    )


API_EXPECTED: dict[tuple[str, str], dict[str, int]] = {
    ("list", "in"): {"admin": 200, "head": 200, "rep_a": 200, "agent": 200},
    ("list", "out"): {"head": 404, "rep_a": 404},
    ("create", "in"): {"admin": 403, "head": 201, "rep_a": 201, "agent": 403},
    ("create", "out"): {"head": 404, "rep_a": 404},
    ("detail", "in"): {"admin": 200, "head": 200, "rep_a": 200, "agent": 200},
    ("detail", "out"): {"head": 404, "rep_a": 404},
    ("update", "in"): {"admin": 403, "head": 200, "rep_a": 200, "agent": 403},
    ("update", "out"): {"head": 404, "rep_a": 404},
    ("delete", "in"): {"admin": 403, "head": 204, "rep_a": 204, "agent": 403},
    ("delete", "out"): {"head": 404, "rep_a": 404},
    ("reveal", "in"): {"admin": 403, "head": 200, "rep_a": 200, "agent": 403},
    ("reveal", "out"): {"head": 404, "rep_a": 404},
}

AUDIT_ON_SUCCESS = {
    "list": None,
    "detail": None,
    "create": "contact.create",
    "update": "contact.update",
    "delete": "contact.delete",
    "reveal": "contact.reveal",
}


def _call_api(api, operation: str, customer, contact):
    if operation == "list":
        return api.get(f"/api/v1/customers/{customer.pk}/contacts")
    if operation == "create":
        return api.post(f"/api/v1/customers/{customer.pk}/contacts", {"name": "新联系人"})
    path = f"/api/v1/contacts/{contact.pk}"
    if operation == "detail":
        return api.get(path)
    if operation == "update":
        return api.patch(path, {"title": "采购总监"})
    if operation == "delete":
        return api.delete(path)
    if operation == "reveal":
        return api.post(f"{path}/reveal", {"fields": ["phone"]})
    raise AssertionError(operation)


def _contact_of(crm, people, customer):
    for name, contact in people.items():
        if getattr(crm, name).pk == customer.pk:
            return contact
    raise AssertionError(customer)


@pytest.mark.parametrize("role", ROLES)
def test_api_matrix(crm, people, role):
    api = api_for(getattr(crm, role))

    def check(operation, scope, status):
        customer = customer_target(crm, role, scope)
        contact = _contact_of(crm, people, customer)
        return answer_problem(
            lambda: _call_api(api, operation, customer, contact),
            status,
            events=_events,
            on_success=AUDIT_ON_SUCCESS[operation],
            refusal_codes=(*CUSTOMER_REFUSAL_CODES, "contact_not_found"),
        )

    assert each_in_savepoint(CUSTOMER_SCOPES.cases(API_EXPECTED, role), check) == []


@pytest.mark.parametrize("operation", sorted({op for op, _scope in API_EXPECTED}))
def test_api_anonymous_gets_401(crm, people, operation):
    response = _call_api(ApiClient(), operation, crm.customer_a, people["customer_a"])
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_unknown_and_deleted_contacts_are_404(crm, people):
    api = api_for(crm.rep_a)
    assert api.get("/api/v1/contacts/999999").json()["code"] == "contact_not_found"
    assert api.delete(f"/api/v1/contacts/{people['customer_a'].pk}").status_code == 204
    assert api.get(f"/api/v1/contacts/{people['customer_a'].pk}").status_code == 404
    assert api.get(f"/api/v1/customers/{crm.customer_a.pk}/contacts").json()["count"] == 0
    assert Contact.objects.get(pk=people["customer_a"].pk).deleted_at is not None


# --- masking and reveal -----------------------------------------------------------------------


def test_personal_data_is_masked_in_list_and_detail(crm, people):
    api = api_for(crm.agent)
    listed = api.get(f"/api/v1/customers/{crm.customer_a.pk}/contacts").json()["items"][0]
    detail = api.get(f"/api/v1/contacts/{people['customer_a'].pk}").json()
    for body in (listed, detail):
        assert body["phone"] == "138****8000"
        assert body["email"] == "l***@jia.example.cn"
        assert body["wechat"] == "l***4"
        assert "13800138000" not in str(body)


def test_reveal_is_audited_and_returns_clear_values(crm, people):
    contact = people["customer_a"]
    response = api_for(crm.rep_a).post(
        f"/api/v1/contacts/{contact.pk}/reveal", {"fields": ["phone", "wechat"]}
    )
    assert response.status_code == 200
    assert response.json() == {"values": {"phone": "+8613800138000", "wechat": "li_wx_2024"}}
    event = AuditEvent.objects.filter(action="contact.reveal").latest("seq")
    assert event.actor_employee_id == crm.rep_a.employee_id
    assert event.target_type == "crm.customer"
    assert event.target_id == str(crm.customer_a.pk)
    assert event.params == {"field": "phone,wechat", "contact": contact.name}


def test_reveal_refuses_other_fields(crm, people):
    api = api_for(crm.rep_a)
    response = api.post(f"/api/v1/contacts/{people['customer_a'].pk}/reveal", {"fields": ["notes"]})
    assert response.status_code == 422
    assert _events() == []


def test_reveal_page_shows_the_value(crm, people, client):
    client.force_login(crm.rep_a)
    response = client.post(f"/customers/contacts/{people['customer_a'].pk}/reveal/email/")
    assert response.status_code == 200
    assert "li@jia.example.cn" in response.content.decode()
    assert _events() == ["contact.reveal"]


def test_audit_log_holds_no_clear_personal_data(crm):
    contact = contact_services.create_contact(
        crm.customer_a.pk,
        actor=crm.rep_a,
        data={"name": "赵总", "phone": "13912345678", "wechat": "zhao_wx"},
    )
    contact_services.update_contact(contact.pk, actor=crm.rep_a, data={"phone": "13712345678"})
    events = AuditEvent.objects.filter(action__startswith="contact.").order_by("seq")
    text = str([e.changes for e in events])
    assert "13912345678" not in text and "13712345678" not in text and "zhao_wx" not in text
    assert events[1].changes["phone"] == ["139****5678", "137****5678"]


# --- writes, validation, primary contact ------------------------------------------------------


def test_create_normalises_and_audits(crm):
    response = api_for(crm.rep_a).post(
        f"/api/v1/customers/{crm.customer_a.pk}/contacts",
        {"name": " 钱经理 ", "phone": "138 0013 8000", "email": "Qian@Jia.Example.CN"},
    )
    assert response.status_code == 201, response.content
    contact = Contact.objects.get(pk=response.json()["id"])
    assert (contact.name, contact.phone, contact.email) == (
        "钱经理",
        "+8613800138000",
        "qian@jia.example.cn",
    )
    assert contact.created_by == crm.rep_a
    event = AuditEvent.objects.filter(action="contact.create").latest("seq")
    assert event.summary == "Added contact 钱经理 to customer 上海甲公司"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "李\x07"}, "name"),
        ({"name": "李", "phone": "12345"}, "phone"),
        ({"name": "李", "email": "not-an-email"}, "email"),
        ({"name": "李", "wechat": "has space"}, "wechat"),
        ({"name": "李", "title": "t" * 101}, "title"),
        ({"name": "李", "unknown": "x"}, "unknown"),
        ({"name": "李", "is_primary": "maybe"}, "is_primary"),
    ],
)
def test_create_validation(crm, payload, field):
    response = api_for(crm.rep_a).post(f"/api/v1/customers/{crm.customer_a.pk}/contacts", payload)
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "validation_error"
    assert field in body["details"]["fields"]
    assert not Contact.objects.exists()
    assert _events() == []


def test_update_validation_stores_nothing(crm, people):
    contact = people["customer_a"]
    response = api_for(crm.rep_a).patch(
        f"/api/v1/contacts/{contact.pk}", {"email": "bad", "title": "总监"}
    )
    assert response.status_code == 422
    assert "email" in response.json()["details"]["fields"]
    contact.refresh_from_db()
    assert contact.title == "" and contact.email == "li@jia.example.cn"
    assert _events() == []


def test_unchanged_update_writes_no_event(crm, people):
    response = api_for(crm.rep_a).patch(
        f"/api/v1/contacts/{people['customer_a'].pk}", {"name": "李经理"}
    )
    assert response.status_code == 200
    assert _events() == []


def test_a_new_primary_contact_replaces_the_old_one(crm, people):
    old = people["customer_a"]
    api = api_for(crm.rep_a)
    response = api.post(
        f"/api/v1/customers/{crm.customer_a.pk}/contacts",
        {"name": "新主联系人", "is_primary": True},
    )
    assert response.status_code == 201
    old.refresh_from_db()
    assert old.is_primary is False
    primaries = Contact.objects.filter(customer=crm.customer_a, is_primary=True)
    assert [c.name for c in primaries] == ["新主联系人"]
    event = AuditEvent.objects.filter(action="contact.create").latest("seq")
    assert event.changes["replaced_primary"] == [["李经理"], None]
    # Promoting the old one back by PATCH swaps again.
    assert api.patch(f"/api/v1/contacts/{old.pk}", {"is_primary": True}).status_code == 200
    primaries = Contact.objects.filter(customer=crm.customer_a, is_primary=True)
    assert [c.name for c in primaries] == ["李经理"]
    # Other customers' primary contacts are untouched.
    assert Contact.objects.get(pk=people["customer_b"].pk).is_primary


def test_contacts_are_allowed_on_person_customers(crm):
    crm.customer_a.kind = "person"
    crm.customer_a.save()
    response = api_for(crm.rep_a).post(
        f"/api/v1/customers/{crm.customer_a.pk}/contacts", {"name": "家属"}
    )
    assert response.status_code == 201


def test_contacts_of_a_deleted_customer_are_gone(crm, people):
    assert api_for(crm.head).delete(f"/api/v1/customers/{crm.customer_a.pk}").status_code == 204
    api = api_for(crm.rep_a)
    assert api.get(f"/api/v1/contacts/{people['customer_a'].pk}").status_code == 404


def test_errors_in_chinese(crm):
    api = api_for(crm.rep_a, language="zh-hans")
    response = api.post(
        f"/api/v1/customers/{crm.customer_a.pk}/contacts", {"name": "李", "phone": "1"}
    )
    assert response.status_code == 422
    assert response.json()["details"]["fields"]["phone"] != ["Not a valid phone number."]


# --- pages ------------------------------------------------------------------------------------

PAGE_EXPECTED: dict[tuple[str, str], dict[str, int]] = {
    ("new", "in"): {"admin": 403, "head": 200, "rep_a": 200, "agent": 403},
    ("new", "out"): {"head": 404, "rep_a": 404},
    ("create", "in"): {"admin": 403, "head": 302, "rep_a": 302, "agent": 403},
    ("create", "out"): {"head": 404, "rep_a": 404},
    ("edit", "in"): {"admin": 403, "head": 200, "rep_a": 200, "agent": 403},
    ("edit", "out"): {"head": 404, "rep_a": 404},
    ("save", "in"): {"admin": 403, "head": 302, "rep_a": 302, "agent": 403},
    ("save", "out"): {"head": 404, "rep_a": 404},
    ("delete", "in"): {"admin": 403, "head": 302, "rep_a": 302, "agent": 403},
    ("delete", "out"): {"head": 404, "rep_a": 404},
    ("reveal", "in"): {"admin": 403, "head": 200, "rep_a": 200, "agent": 403},
    ("reveal", "out"): {"head": 404, "rep_a": 404},
}

PAGE_AUDIT = {
    "new": None,
    "edit": None,
    "create": "contact.create",
    "save": "contact.update",
    "delete": "contact.delete",
    "reveal": "contact.reveal",
}


def _call_page(client: Client, operation: str, customer, contact):
    if operation == "new":
        return client.get(f"/customers/{customer.pk}/contacts/new/")
    if operation == "create":
        return client.post(f"/customers/{customer.pk}/contacts/new/", {"name": "新联系人"})
    path = f"/customers/contacts/{contact.pk}/"
    if operation == "edit":
        return client.get(f"{path}edit/")
    if operation == "save":
        return client.post(f"{path}edit/", {"name": contact.name, "title": "总监"})
    if operation == "delete":
        return client.post(f"{path}delete/")
    if operation == "reveal":
        return client.post(f"{path}reveal/phone/")
    raise AssertionError(operation)


@pytest.mark.parametrize("role", ROLES)
def test_page_matrix(crm, people, client, role):
    client.force_login(getattr(crm, role))

    def check(operation, scope, status):
        customer = customer_target(crm, role, scope)
        contact = _contact_of(crm, people, customer)
        return answer_problem(
            lambda: _call_page(client, operation, customer, contact),
            status,
            events=_events,
            on_success=PAGE_AUDIT[operation],
        )

    assert each_in_savepoint(CUSTOMER_SCOPES.cases(PAGE_EXPECTED, role), check) == []


@pytest.mark.parametrize("operation", sorted({op for op, _scope in PAGE_EXPECTED}))
def test_pages_anonymous_redirect_to_login(crm, people, client, operation):
    response = _call_page(client, operation, crm.customer_a, people["customer_a"])
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_contact_form_shows_errors_beside_fields(crm):
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(crm.rep_a)
    response = client.post(
        f"/customers/{crm.customer_a.pk}/contacts/new/", {"name": "李", "phone": "123"}
    )
    assert response.status_code == 200
    assert "Not a valid phone number." in response.content.decode()
    assert not Contact.objects.exists()


def test_edit_page_keeps_masked_fields_when_left_empty(crm, people, client):
    contact = people["customer_a"]
    client.force_login(crm.rep_a)
    page = client.get(f"/customers/contacts/{contact.pk}/edit/").content.decode()
    assert "+8613800138000" not in page and "li_wx_2024" not in page
    response = client.post(
        f"/customers/contacts/{contact.pk}/edit/",
        {
            "name": "李经理",
            "title": "总监",
            "phone": "",
            "email": "",
            "wechat": "",
            "is_primary": "on",
        },
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert (contact.title, contact.phone, contact.wechat) == (
        "总监",
        "+8613800138000",
        "li_wx_2024",
    )
