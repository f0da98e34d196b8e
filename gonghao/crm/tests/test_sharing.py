"""Sharing a customer: who may share, what a read or editable share opens, expiry, departments,
masking unchanged, refusals that change nothing, and the audit events."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from gonghao.accounts.models import EmployeeStatus
from gonghao.audit.models import AuditEvent
from gonghao.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gonghao.crm import followups, sharing
from gonghao.crm.models import CustomerShare
from gonghao.crm.opportunities import create_opportunity
from gonghao.crm.queries import CustomerFilter, customers_for, get_customer_for
from gonghao.crm.share_reach import today
from gonghao.testing.crm import make_customer
from gonghao.testing.kit import api_for, make_employee


def events() -> list[str]:
    """The customer write events so far (reads, logins and setup left out)."""
    return list(
        AuditEvent.objects.filter(action__startswith="customer.")
        .exclude(action="customer.view")
        .order_by("seq")
        .values_list("action", flat=True)
    )


def visible_names(employee, **filters) -> set[str]:
    return {c.name for c in customers_for(employee, CustomerFilter(**filters))}


def shares_url(customer) -> str:
    return f"/api/v1/customers/{customer.pk}/shares"


# --- what a share opens -----------------------------------------------------------------------


def test_read_share_makes_the_customer_visible_everywhere_but_not_editable(crm):
    a = crm.customer_a
    assert "上海甲公司" not in visible_names(crm.rep_c)
    sharing.share_customer(a.pk, actor=crm.rep_a, employee=crm.rep_c)
    assert "上海甲公司" in visible_names(crm.rep_c)
    assert "上海甲公司" in visible_names(crm.rep_c, q="甲公司")
    assert visible_names(crm.rep_c, shared="with_me") == {"上海甲公司"}
    api = api_for(crm.rep_c)
    listed = api.get("/api/v1/customers", {"q": "13812341234"}).json()
    assert [c["name"] for c in listed["items"]] == ["上海甲公司"]
    assert api.get(f"/api/v1/customers/{a.pk}").status_code == 200
    assert api.get(f"/api/v1/customers/{a.pk}/contacts").status_code == 200
    assert api.get(f"/api/v1/customers/{a.pk}/interactions").status_code == 200
    # Read only: editing the customer and its contacts is refused (403: in sight, not allowed).
    response = api.patch(f"/api/v1/customers/{a.pk}", {"industry": "制造业"})
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    response = api.post(f"/api/v1/customers/{a.pk}/contacts", {"name": "王经理"})
    assert response.status_code == 403
    # Follow-ups follow their own rule: anyone who sees the customer and holds
    # interaction.create may record one.
    response = api.post(
        f"/api/v1/customers/{a.pk}/interactions", {"kind": "call", "content": "回访"}
    )
    assert response.status_code == 201


def test_editable_share_lets_the_recipient_edit_the_customer_and_its_contacts(crm):
    a = crm.customer_a
    sharing.share_customer(a.pk, actor=crm.rep_a, employee=crm.rep_c, access="edit")
    api = api_for(crm.rep_c)
    assert api.patch(f"/api/v1/customers/{a.pk}", {"industry": "制造业"}).status_code == 200
    assert api.post(f"/api/v1/customers/{a.pk}/contacts", {"name": "王经理"}).status_code == 201
    # Not more than edit: no delete, transfer or re-sharing through a share.
    assert api.delete(f"/api/v1/customers/{a.pk}").status_code == 403
    response = api.post(shares_url(a), {"employee": crm.rep_b.employee_id})
    assert response.status_code == 403
    page = Client()
    page.force_login(crm.rep_c)
    assert page.get(f"/customers/{a.pk}/edit/").status_code == 200


def test_a_share_never_unmasks(crm):
    a = crm.customer_a
    sharing.share_customer(a.pk, actor=crm.rep_a, employee=crm.rep_c, access="edit")
    api = api_for(crm.rep_c)
    detail = api.get(f"/api/v1/customers/{a.pk}").json()
    assert detail["phone"] == "138****1234"
    # rep_c holds customer.view_sensitive for their own customers, not through a share.
    response = api.post(f"/api/v1/customers/{a.pk}/reveal", {"fields": ["phone"]})
    assert response.status_code == 403
    assert "customer.reveal" not in events()
    page = Client()
    page.force_login(crm.rep_c)
    html = page.get(f"/customers/{a.pk}/").content.decode()
    assert "138****1234" in html and "13812341234" not in html
    assert f'hx-post="/customers/{a.pk}/reveal/phone/"' not in html


def test_shared_customer_opportunities_are_readable_not_editable(crm):
    a = crm.customer_a
    opportunity = create_opportunity(actor=crm.rep_a, customer_id=a.pk, data={"name": "大单"})
    api = api_for(crm.rep_c)
    assert api.get(f"/api/v1/opportunities/{opportunity.pk}").status_code == 404
    sharing.share_customer(a.pk, actor=crm.rep_a, employee=crm.rep_c, access="edit")
    assert api.get(f"/api/v1/opportunities/{opportunity.pk}").status_code == 200
    names = [o["name"] for o in api.get("/api/v1/opportunities").json()["items"]]
    assert names == ["大单"]
    response = api.patch(f"/api/v1/opportunities/{opportunity.pk}", {"name": "改名"})
    assert response.status_code == 403
    # The 360 page's opportunities card (loaded by htmx) lists it too.
    page = Client()
    page.force_login(crm.rep_c)
    card = page.get(reverse("customer_opportunities", args=[a.pk]), headers={"HX-Request": "true"})
    assert card.status_code == 200 and "大单" in card.content.decode()


def test_export_includes_shared_customers_masked(crm):
    c = crm.customer_c
    api = api_for(crm.head)
    assert "北京丙公司" not in api.get("/api/v1/customers/export.csv").getvalue().decode()
    sharing.share_customer(c.pk, actor=crm.rep_c, employee=crm.head)
    text = api.get("/api/v1/customers/export.csv").getvalue().decode()
    assert "北京丙公司" in text
    assert "137****5678" in text and "13712345678" not in text


def test_share_with_a_department_and_its_sub_departments(crm):
    c = crm.customer_c
    share = sharing.share_customer(c.pk, actor=crm.rep_c, department=crm.sales)
    assert "北京丙公司" in visible_names(crm.rep_a)  # in Sales
    assert "北京丙公司" not in visible_names(crm.rep_b)  # in Sales East, below Sales
    sharing.revoke_share(c.pk, share.pk, actor=crm.rep_c)
    sharing.share_customer(c.pk, actor=crm.rep_c, department=crm.sales, include_subdepartments=True)
    assert "北京丙公司" in visible_names(crm.rep_a)
    assert "北京丙公司" in visible_names(crm.rep_b)
    assert "北京丙公司" not in visible_names(
        make_employee("外人", roles=("sales",), department=crm.hq)
    )
    assert visible_names(crm.rep_b, shared="with_me") == {"北京丙公司"}


def test_expired_share_stops_at_once(crm, frozen_clock):
    a = crm.customer_a
    until = today()
    sharing.share_customer(a.pk, actor=crm.rep_a, employee=crm.rep_c, until=until)
    assert get_customer_for(crm.rep_c, a.pk).pk == a.pk
    # The share works through the `until` day, in the company's time zone.
    end_of_day = timezone.make_aware(
        timezone.datetime.combine(until + timedelta(days=1), timezone.datetime.min.time()),
        timezone.get_default_timezone(),
    )
    frozen_clock.current = end_of_day - timedelta(seconds=1)
    assert "上海甲公司" in visible_names(crm.rep_c)
    frozen_clock.current = end_of_day
    assert "上海甲公司" not in visible_names(crm.rep_c)
    with pytest.raises(NotFound):
        get_customer_for(crm.rep_c, a.pk)
    api = api_for(crm.rep_c)
    assert api.get(f"/api/v1/customers/{a.pk}").status_code == 404
    listed = api.get(shares_url(a), headers={}).status_code
    assert listed == 404
    owner_view = api_for(crm.rep_a).get(shares_url(a), {"all": "true"}).json()
    assert owner_view["items"][0]["active"] is False
    assert api_for(crm.rep_a).get(shares_url(a)).json()["count"] == 0
    # Once expired, the same recipient can be given a new share.
    sharing.share_customer(a.pk, actor=crm.rep_a, employee=crm.rep_c)
    assert "上海甲公司" in visible_names(crm.rep_c)


def test_revoke_closes_access_and_is_audited(crm):
    a = crm.customer_a
    api = api_for(crm.rep_a)
    response = api.post(shares_url(a), {"employee": crm.rep_c.employee_id, "access": "edit"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["employee"]["employee_id"] == crm.rep_c.employee_id
    assert body["access"] == "edit" and body["active"] is True
    assert events()[-1] == "customer.share"
    event = AuditEvent.objects.order_by("-seq").first()
    assert event.target_id == str(a.pk) and crm.rep_c.employee_id in event.params["recipient"]
    listed = api.get(shares_url(a)).json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == body["id"]
    assert api.delete(f"{shares_url(a)}/{body['id']}").status_code == 204
    assert events()[-1] == "customer.unshare"
    assert api_for(crm.rep_c).get(f"/api/v1/customers/{a.pk}").status_code == 404
    again = api.delete(f"{shares_url(a)}/{body['id']}")
    assert again.status_code == 404 and again.json()["code"] == "share_not_found"
    assert CustomerShare.objects.get(pk=body["id"]).revoked_by_id == crm.rep_a.pk


def test_department_head_shares_customers_in_scope(crm):
    response = api_for(crm.head).post(
        shares_url(crm.customer_b),
        {"department_id": crm.service.pk, "include_subdepartments": True},
    )
    assert response.status_code == 201, response.content
    assert response.json()["department"] == {"id": crm.service.pk, "name": crm.service.name}
    assert "杭州乙公司" in visible_names(crm.rep_c)
    # Out of the head's scope: 404, and the recipient's only path to it is not opened.
    response = api_for(crm.head).post(
        shares_url(crm.customer_c), {"employee": crm.rep_a.employee_id}
    )
    assert response.status_code == 404


def test_sharing_needs_the_permission(crm):
    # Customer service sees every customer but holds no customer.share.
    response = api_for(crm.agent).post(
        shares_url(crm.customer_a), {"employee": crm.rep_c.employee_id}
    )
    assert response.status_code == 403
    with pytest.raises(PermissionDenied):
        sharing.share_customer(crm.customer_a.pk, actor=crm.agent, employee=crm.rep_c)
    # rep_b cannot see customer_a at all: 404.
    with pytest.raises(NotFound):
        sharing.share_customer(crm.customer_a.pk, actor=crm.rep_b, employee=crm.rep_c)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"employee": "SELF"}, "employee"),
        ({"employee": "DEPARTED"}, "employee"),
        ({"employee": "DISABLED"}, "employee"),
        ({"employee": "NOVIEW"}, "employee"),
        ({"employee": "E000000"}, "employee"),
        ({"employee": "RECIPIENT", "until": "YESTERDAY"}, "until"),
        ({"employee": "RECIPIENT", "department_id": "SALES"}, "recipient"),
        ({}, "recipient"),
        ({"employee": "RECIPIENT", "include_subdepartments": True}, "include_subdepartments"),
        ({"department_id": 999999}, "department_id"),
    ],
)
def test_bad_shares_are_refused_and_change_nothing(crm, body, field):
    departed = make_employee("离职", roles=("sales",), status=EmployeeStatus.DEPARTED)
    disabled = make_employee("停用", roles=("sales",), status=EmployeeStatus.DISABLED)
    values = {
        "SELF": crm.rep_a.employee_id,
        "DEPARTED": departed.employee_id,
        "DISABLED": disabled.employee_id,
        "NOVIEW": crm.marketer.employee_id,
        "RECIPIENT": crm.rep_c.employee_id,
        "YESTERDAY": (today() - timedelta(days=1)).isoformat(),
        "SALES": crm.sales.pk,
    }
    payload = {k: values.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    before = events()
    response = api_for(crm.rep_a, language="zh-Hans").post(shares_url(crm.customer_a), payload)
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "validation_error"
    assert field in response.json()["details"]["fields"], response.json()
    assert CustomerShare.objects.count() == 0
    assert events() == before


def test_messages_speak_the_users_language(crm):
    response = api_for(crm.rep_a, language="zh-Hans").post(
        shares_url(crm.customer_a), {"employee": crm.rep_a.employee_id}
    )
    english = api_for(crm.rep_a).post(
        shares_url(crm.customer_a), {"employee": crm.rep_a.employee_id}
    )
    assert english.json()["details"]["fields"]["employee"] == [
        "You cannot share a customer with yourself."
    ]
    assert response.status_code == 422


def test_duplicate_live_share_is_a_conflict(crm):
    sharing.share_customer(crm.customer_a.pk, actor=crm.rep_a, employee=crm.rep_c)
    before = events()
    response = api_for(crm.rep_a).post(
        shares_url(crm.customer_a), {"employee": crm.rep_c.employee_id, "access": "edit"}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "share_exists"
    with pytest.raises(Conflict):
        sharing.share_customer(crm.customer_a.pk, actor=crm.head, employee=crm.rep_c)
    assert CustomerShare.objects.count() == 1
    assert events() == before


def test_validation_raises_before_writing(crm):
    with pytest.raises(ValidationFailed) as caught:
        sharing.share_customer(crm.customer_a.pk, actor=crm.rep_a)
    assert "recipient" in caught.value.field_errors
    # Sharing with the owner (here by the owner's head) would change nothing.
    with pytest.raises(ValidationFailed) as caught:
        sharing.share_customer(crm.customer_a.pk, actor=crm.head, employee=crm.rep_a)
    assert caught.value.field_errors["employee"] == ["This employee already owns the customer."]
    assert CustomerShare.objects.count() == 0


# --- pages ------------------------------------------------------------------------------------


def browser(employee) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(employee)
    return client


def test_shares_card_form_and_revoke_on_the_360_page(crm):
    a = crm.customer_a
    owner = browser(crm.rep_a)
    assert (
        f'hx-get="/customers/{a.pk}/shares/card/"'
        in owner.get(f"/customers/{a.pk}/").content.decode()
    )
    html = owner.get(f"/customers/{a.pk}/shares/card/").content.decode()
    assert 'id="shares"' in html and "Not shared with anyone." in html
    assert f'action="/customers/{a.pk}/shares/"' in html
    response = owner.post(
        f"/customers/{a.pk}/shares/", {"employee": crm.rep_c.employee_id, "access": "read"}
    )
    assert response.status_code == 302 and response.url.endswith("#shares")
    share = CustomerShare.objects.get()
    html = owner.get(f"/customers/{a.pk}/shares/card/").content.decode()
    assert crm.rep_c.employee_id in html and f"/shares/{share.pk}/revoke/" in html
    # htmx: the card comes back with the form errors beside the fields.
    response = owner.post(
        f"/customers/{a.pk}/shares/",
        {"employee": crm.rep_c.employee_id, "access": "read"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "already shared" in response.content.decode()
    response = owner.post(
        f"/customers/{a.pk}/shares/{share.pk}/revoke/", headers={"HX-Request": "true"}
    )
    assert response.status_code == 200 and "Not shared with anyone." in response.content.decode()
    assert events()[-2:] == ["customer.share", "customer.unshare"]


def test_the_recipient_sees_the_card_without_the_form(crm):
    a = crm.customer_a
    sharing.share_customer(a.pk, actor=crm.rep_a, employee=crm.rep_c)
    html = browser(crm.rep_c).get(f"/customers/{a.pk}/shares/card/").content.decode()
    assert crm.rep_c.employee_id in html
    assert f'action="/customers/{a.pk}/shares/"' not in html
    assert "/revoke/" not in html
    assert browser(crm.rep_c).get(f"/customers/{a.pk}/shares/").status_code == 403


def test_bad_share_on_the_page_shows_errors_and_writes_nothing(crm):
    before = events()
    response = browser(crm.rep_a).post(
        f"/customers/{crm.customer_a.pk}/shares/",
        {"employee": crm.rep_a.employee_id, "access": "read"},
    )
    assert response.status_code == 200
    assert "You cannot share a customer with yourself." in response.content.decode()
    assert events() == before and CustomerShare.objects.count() == 0


def test_shared_with_me_filter_on_the_list_page(crm):
    sharing.share_customer(crm.customer_a.pk, actor=crm.rep_a, employee=crm.rep_c)
    page = browser(crm.rep_c)
    html = page.get("/customers/", {"shared": "with_me"}).content.decode()
    assert "上海甲公司" in html and "北京丙公司" not in html
    html = page.get("/customers/").content.decode()
    assert "上海甲公司" in html and "北京丙公司" in html
    response = api_for(crm.rep_c).get("/api/v1/customers", {"shared": "nonsense"})
    assert response.status_code == 422


# --- cost -------------------------------------------------------------------------------------


def test_list_queries_do_not_grow_with_shares(crm):
    api = api_for(crm.rep_c)
    api.get("/api/v1/customers")

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get("/api/v1/customers", {"limit": 50}).status_code == 200
        return len(captured.captured_queries)

    sharing.share_customer(crm.customer_a.pk, actor=crm.rep_a, employee=crm.rep_c)
    few = count()
    for n in range(15):
        customer = make_customer(crm.rep_a, f"共享客户{n}")
        sharing.share_customer(customer.pk, actor=crm.rep_a, employee=crm.rep_c)
    sharing.share_customer(crm.customer_b.pk, actor=crm.rep_b, department=crm.service)
    assert count() == few
    detail = api_for(crm.rep_c)
    detail.get("/api/v1/me")
    with CaptureQueriesContext(connection) as captured:
        assert detail.get(f"/api/v1/customers/{crm.customer_a.pk}").status_code == 200
    assert len(captured.captured_queries) <= 12


def test_interactions_recorded_through_a_share_show_on_the_owners_timeline(crm):
    sharing.share_customer(crm.customer_a.pk, actor=crm.rep_a, employee=crm.rep_c)
    followups.record_interaction(
        crm.customer_a.pk, actor=crm.rep_c, data={"kind": "call", "content": "协助跟进"}
    )
    timeline = list(followups.timeline_for(crm.rep_a, crm.customer_a.pk))
    assert [i.employee_id for i in timeline] == [crm.rep_c.pk]
