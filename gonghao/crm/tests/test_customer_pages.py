"""Customer pages: list and search with htmx, detail and reveal, create, edit, transfer,
delete and restore."""

from __future__ import annotations

import pytest
from django.test import Client

from gonghao.audit.models import AuditEvent
from gonghao.crm.models import Customer
from gonghao.testing.crm import make_customer
from gonghao.testing.kit import make_employee

pytestmark = pytest.mark.django_db


def browser(employee, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(employee)
    return client


def customer_actions() -> list[str]:
    return list(
        AuditEvent.objects.filter(action__startswith="customer.")
        .order_by("seq")
        .values_list("action", flat=True)
    )


def test_list_searches_and_paginates(crm):
    for index in range(30):
        make_customer(crm.rep_a, f"批量客户{index:02d}")
    client = browser(crm.rep_a)
    response = client.get("/customers/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html and 'id="customer-table"' in html
    assert len(response.context["rows"]) == 25
    assert response.context["page"].paginator.count == 31
    assert "Page 1 of 2" in html
    assert "杭州乙公司" not in html  # rep_b's

    response = client.get("/customers/", {"page": 2, "sort": "name"})
    assert len(response.context["rows"]) == 6
    assert "page=1" in response.content.decode() and "sort=name" in response.content.decode()

    response = client.get("/customers/", {"q": "上海"})
    assert [row["customer"].name for row in response.context["rows"]] == ["上海甲公司"]
    response = client.get("/customers/", {"q": "批量客户0"})
    assert len(response.context["rows"]) == 10

    # htmx asks for the table only.
    response = client.get("/customers/", {"q": "上海"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and "<form" not in html
    assert html.lstrip().startswith("<table")
    assert "上海甲公司" in html and "138****1234" in html and "批量客户" not in html


def test_list_shows_masked_phones_and_buttons_by_permission(crm):
    html = browser(crm.head).get("/customers/").content.decode()
    assert "138****1234" in html and "+8613812341234" not in html
    assert 'href="/customers/new/"' in html and 'href="/customers/export/"' in html
    assert "?deleted=1" not in html
    html = browser(crm.agent).get("/customers/").content.decode()
    assert 'href="/customers/new/"' not in html and 'href="/customers/export/"' not in html
    html = browser(crm.admin).get("/customers/").content.decode()
    assert "?deleted=1" in html


def test_detail_is_masked_with_reveal_only_for_those_who_may(crm):
    path = f"/customers/{crm.customer_a.pk}/"
    response = browser(crm.rep_a).get(path)
    html = response.content.decode()
    assert response.status_code == 200
    assert "138****1234" in html and "b***@jia.example.cn" in html
    assert "+8613812341234" not in html and "buyer@jia" not in html
    assert f'hx-post="/customers/{crm.customer_a.pk}/reveal/phone/"' in html
    assert f'hx-post="/customers/{crm.customer_a.pk}/reveal/email/"' in html
    assert "Reveal" in html
    assert f'href="/customers/{crm.customer_a.pk}/edit/"' in html
    assert "/transfer/" not in html and "/delete/" not in html  # sales may not

    html = browser(crm.head).get(path).content.decode()
    assert "/reveal/phone/" in html and "/transfer/" in html and "/delete/" in html

    html = browser(crm.agent).get(path).content.decode()
    assert "138****1234" in html
    assert "/reveal/" not in html and ">Reveal<" not in html
    assert "/edit/" not in html


def test_reveal_returns_the_clear_value_fragment(crm):
    client = browser(crm.rep_a)
    response = client.post(f"/customers/{crm.customer_a.pk}/reveal/phone/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "+8613812341234" in html and "<html" not in html
    assert "revealed · audited" in html
    event = AuditEvent.objects.get(action="customer.reveal")
    assert event.params == {"field": "phone"}
    assert event.actor_employee_id == crm.rep_a.employee_id

    assert client.post(f"/customers/{crm.customer_a.pk}/reveal/name/").status_code == 404
    assert client.get(f"/customers/{crm.customer_a.pk}/reveal/phone/").status_code == 405
    assert (
        browser(crm.agent).post(f"/customers/{crm.customer_a.pk}/reveal/phone/").status_code == 403
    )
    assert customer_actions() == ["customer.reveal"]


def test_create_form_shows_errors_beside_fields(crm):
    client = browser(crm.rep_a)
    response = client.get("/customers/new/")
    assert response.status_code == 200
    assert 'name="name"' in response.content.decode()
    before = Customer.objects.count()

    response = client.post("/customers/new/", {"kind": "company", "status": "lead", "name": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["name"] == ["This field is required."]

    response = client.post(
        "/customers/new/",
        {
            "kind": "company",
            "status": "lead",
            "name": "表单客户",
            "phone": "12345",
            "email": "nope",
            "id_number": "110105194912310021",
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["phone"] == ["Not a valid phone number."]
    assert errors["email"] == ["Not a valid e-mail address."]
    assert errors["id_number"] == ["Not a valid ID number (18 characters with check digit)."]
    html = response.content.decode()
    phone_input = html.index('name="phone"')
    phone_error = html.index("Not a valid phone number.")
    assert phone_input < phone_error < html.index('name="email"')  # beside its field
    assert Customer.objects.count() == before
    assert customer_actions() == []

    response = client.post(
        "/customers/new/",
        {"kind": "person", "status": "lead", "name": "表单客户", "phone": "13800138000"},
    )
    customer = Customer.objects.get(name="表单客户")
    assert response.status_code == 302
    assert response["Location"] == f"/customers/{customer.pk}/"
    assert (customer.owner, customer.kind, customer.phone) == (
        crm.rep_a,
        "person",
        "+8613800138000",
    )
    assert customer_actions() == ["customer.create"]


def test_create_form_in_chinese(crm):
    response = browser(crm.rep_a, language="zh-hans").post(
        "/customers/new/", {"kind": "company", "status": "lead", "name": "甲", "phone": "1"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["phone"] != ["Not a valid phone number."]


def test_edit_keeps_personal_data_left_empty(crm):
    client = browser(crm.rep_a)
    path = f"/customers/{crm.customer_a.pk}/edit/"
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert "+8613812341234" not in html and "buyer@jia.example.cn" not in html
    assert "138****1234" in html  # shown as a hint only
    assert response.context["form"].initial["notes"] == "大客户"

    form = {
        "kind": "company",
        "name": "上海甲公司（新）",
        "status": "active",
        "level": "A",
        "source": "",
        "industry": "制造业",
        "phone": "",
        "email": "",
        "id_number": "",
        "address": "上海市浦东新区",
        "tags": "",
        "notes": "大客户",
    }
    response = client.post(path, form)
    assert response.status_code == 302
    assert response["Location"] == f"/customers/{crm.customer_a.pk}/"
    customer = Customer.objects.get(pk=crm.customer_a.pk)
    assert customer.name == "上海甲公司（新）"
    assert customer.status == "active" and customer.industry == "制造业"
    assert customer.phone == "+8613812341234"
    assert customer.email == "buyer@jia.example.cn"

    response = client.post(path, {**form, "phone": "139 0000 2222"})
    assert response.status_code == 302
    assert Customer.objects.get(pk=crm.customer_a.pk).phone == "+8613900002222"

    response = client.post(path, {**form, "phone": "999"})
    assert response.status_code == 200
    assert response.context["form"].errors["phone"] == ["Not a valid phone number."]
    assert customer_actions() == ["customer.update", "customer.update"]


def test_transfer_form(crm):
    client = browser(crm.head)
    path = f"/customers/{crm.customer_a.pk}/transfer/"
    response = client.get(path)
    assert response.status_code == 200
    assert "Transfer 上海甲公司" in response.content.decode()

    departed = make_employee("离职", roles=("sales",), department=crm.sales, status="departed")
    for owner, message in (
        (crm.rep_c.employee_id, "You cannot give a customer to an employee outside your scope."),
        ("E12", "This is not a valid 工号. Please check it and try again."),
        (departed.employee_id, "The owner must be an active employee."),
        ("", "This field is required."),
    ):
        response = client.post(path, {"owner": owner})
        assert response.status_code == 200, owner
        assert response.context["form"].errors["owner"] == [message]
    assert Customer.objects.get(pk=crm.customer_a.pk).owner == crm.rep_a

    response = client.post(path, {"owner": crm.rep_b.employee_id})
    assert response.status_code == 302
    customer = Customer.objects.get(pk=crm.customer_a.pk)
    assert (customer.owner, customer.owner_department) == (crm.rep_b, crm.sales_east)
    assert customer_actions() == ["customer.transfer"]


def test_delete_and_restore_pages(crm):
    head = browser(crm.head)
    path = f"/customers/{crm.customer_b.pk}/"
    assert head.get(f"{path}delete/").status_code == 405
    response = head.post(f"{path}delete/")
    assert response.status_code == 302
    assert response["Location"] == "/customers/"
    assert head.get(path).status_code == 404
    assert "杭州乙公司" not in head.get("/customers/").content.decode()
    assert head.get("/customers/", {"deleted": "1"}).status_code == 403

    admin = browser(crm.admin)
    response = admin.get("/customers/", {"deleted": "1"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Deleted customers" in html and "杭州乙公司" in html
    assert f'action="/customers/{crm.customer_b.pk}/restore/"' in html
    assert f'href="{path}"' not in html  # no link to a page that would answer 404

    assert head.post(f"{path}restore/").status_code == 403
    response = admin.post(f"{path}restore/")
    assert response.status_code == 302
    assert response["Location"] == path
    assert Customer.objects.get(pk=crm.customer_b.pk).deleted_at is None
    assert head.get(path).status_code == 200
    assert customer_actions() == ["customer.delete", "customer.restore", "customer.view"]
