"""The web side of access reviews and role-change requests: start a campaign, decide in bulk
from the queue, the report and its CSV, the role page's approval flags, requests and their
buttons, and the refusals."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client

from gonghao.access.models import Role, RoleGrant
from gonghao.audit.models import AuditEvent
from gonghao.lifecycle import reviews
from gonghao.lifecycle.access_models import (
    AccessReviewCampaign,
    AccessReviewItem,
    RoleChangeRequest,
)
from gonghao.testing.crm import make_crm_cast
from gonghao.testing.kit import make_employee

pytestmark = pytest.mark.django_db
BASE = "/access/reviews/"


@pytest.fixture
def crm(db):
    return make_crm_cast()


def browser(employee, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(employee)
    return client


def start(crm, **fields) -> AccessReviewCampaign:
    return reviews.start_campaign(
        actor=crm.security_admin, scope="department", department=crm.sales, **fields
    )


def holds(employee, role: str) -> bool:
    return RoleGrant.objects.in_force().filter(employee=employee, role__code=role).exists()


def test_start_a_campaign_from_the_form(crm):
    admin = browser(crm.security_admin)
    assert 'href="/access/reviews/new/"' in admin.get(BASE).content.decode()
    response = admin.post(
        f"{BASE}new/",
        {
            "name": "年度审核",
            "scope": "department",
            "department": crm.sales.pk,
            "role": "",
            "due_date": "",
            "undecided_default": "keep",
            "repeat": "yearly",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    campaign = AccessReviewCampaign.objects.get()
    assert response["Location"] == f"{BASE}{campaign.pk}/"
    assert (campaign.name, campaign.repeat, campaign.undecided_default) == (
        "年度审核",
        "yearly",
        "keep",
    )
    assert campaign.items.count() == 3


@pytest.mark.parametrize("language,message", [("en", "Choose the department"), ("zh-hans", "")])
def test_form_errors_show_beside_the_field(crm, language, message):
    response = browser(crm.security_admin, language).post(
        f"{BASE}new/",
        {"scope": "department", "undecided_default": "revoke", "repeat": "none"},
    )
    assert response.status_code == 200
    assert "invalid-feedback" in response.content.decode()
    if message:
        assert message in response.content.decode()
    assert not AccessReviewCampaign.objects.exists()


def test_the_queue_decides_in_bulk_and_revocations_need_a_comment(crm):
    campaign = reviews.start_campaign(actor=crm.security_admin, scope="all")
    owner_items = list(
        AccessReviewItem.objects.filter(campaign=campaign, reviewer=crm.security_admin)
    )
    ids = [str(i.pk) for i in owner_items]
    page = browser(crm.security_admin)
    queue = page.get(f"{BASE}mine/").content.decode()
    for item in owner_items:
        assert f'value="{item.pk}"' in queue
    assert "not used since granted" in queue

    before = AuditEvent.objects.count()
    refused = page.post(f"{BASE}mine/", {"items": ids, "decision": "revoke", "comment": ""})
    assert refused.status_code == 400
    assert "invalid-feedback" in refused.content.decode()
    assert AuditEvent.objects.count() == before

    done = page.post(f"{BASE}mine/", {"items": ids[:2], "decision": "revoke", "comment": "清理"})
    assert done.status_code == 302
    decided = AccessReviewItem.objects.filter(pk__in=ids[:2])
    assert {i.decision for i in decided} == {"revoke"}
    for item in decided:
        assert not holds(item.employee, item.role.code)

    # Someone else's item posted to my queue: refused, nothing changes.
    foreign = AccessReviewItem.objects.get(campaign=campaign, employee=crm.rep_a)
    other = page.post(f"{BASE}mine/", {"items": [foreign.pk], "decision": "keep"})
    assert other.status_code == 400
    assert "Only the assigned reviewer" in other.content.decode()
    foreign.refresh_from_db()
    assert foreign.decision == "pending"


def test_review_revoke_through_the_pages_closes_the_pages_to_the_employee(crm):
    campaign = start(crm)
    item = AccessReviewItem.objects.get(campaign=campaign, employee=crm.rep_a)
    rep = browser(crm.rep_a)
    assert rep.get("/customers/").status_code == 200
    head = browser(crm.head)
    assert crm.rep_a.employee_id in head.get(f"{BASE}mine/").content.decode()
    response = head.post(
        f"{BASE}mine/", {"items": [item.pk], "decision": "revoke", "comment": "岗位调整"}
    )
    assert response.status_code == 302
    assert rep.get("/customers/").status_code == 403
    item.refresh_from_db()
    assert (item.decision, item.outcome, item.decided_by) == ("revoke", "revoked", crm.head)


def test_the_report_page_and_csv(crm):
    campaign = start(crm)
    item = AccessReviewItem.objects.get(campaign=campaign, employee=crm.rep_a)
    reviews.decide_item(item.pk, actor=crm.head, decision="revoke", comment="=cmd|x")
    admin = browser(crm.security_admin)
    page = admin.get(f"{BASE}{campaign.pk}/").content.decode()
    assert crm.rep_a.employee_id in page and "Revoked: 1" in page and "Undecided: 2" in page

    response = admin.get(f"{BASE}{campaign.pk}/report.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    raw = b"".join(response.streaming_content)
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Item", "工号", "Name"]
    assert len(rows) == 4
    revoked = next(r for r in rows if r[1] == crm.rep_a.employee_id)
    assert revoked[8] == "Revoke" and revoked[9] == crm.head.employee_id
    assert revoked[12] == "Revoked"
    assert revoked[13] == "'=cmd|x"  # a formula is neutralised


def test_pages_refuse_without_the_permission(crm):
    campaign = start(crm)
    head = browser(crm.head)  # a reviewer in this campaign, not a review manager
    assert head.get(BASE).status_code == 200
    assert head.get(f"{BASE}new/").status_code == 403
    assert head.get(f"{BASE}{campaign.pk}/").status_code == 403
    assert head.get(f"{BASE}{campaign.pk}/report.csv").status_code == 403
    outsider = browser(crm.rep_c)
    assert outsider.get(f"{BASE}{campaign.pk}/").status_code == 404
    assert outsider.get(f"{BASE}{campaign.pk}/report.csv").status_code == 404
    assert Client().get(f"{BASE}mine/").status_code == 302


def test_the_role_page_sets_the_approval_flags(crm):
    admin = browser(crm.security_admin)
    role = Role.objects.get(code="sales")
    form = {
        "name_zh": role.name_zh,
        "name_en": role.name_en,
        "data_scope": role.data_scope,
        "permissions": role.permissions,
        "hidden_fields": role.hidden_fields,
        "grant_needs_approval": "on",
    }
    assert admin.post(f"/access/roles/{role.code}/", form).status_code == 302
    role.refresh_from_db()
    assert role.grant_needs_approval and not role.revoke_needs_approval
    assert "grant_needs_approval" in admin.get(f"/access/roles/{role.code}/").content.decode()

    newcomer = make_employee("新同事", department=crm.sales)
    refused = admin.post(f"/employees/{newcomer.employee_id}/roles/", {"role": "sales"})
    assert refused.status_code == 200
    assert "role-change request" in refused.content.decode()
    assert not holds(newcomer, "sales")


def test_role_request_pages(crm, settings):
    settings.GONGHAO_APPROVER_MUST_HOLD_ROLES = False
    newcomer = make_employee("新同事", department=crm.sales_east)
    head = browser(crm.head)
    response = head.post(
        "/access/role-requests/new/",
        {"employee_id": newcomer.employee_id, "role": "sales", "kind": "grant"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    request = RoleChangeRequest.objects.get()
    detail = head.get(response["Location"]).content.decode()
    assert 'data-testid="approve"' not in detail

    approver = browser(crm.admin)
    assert newcomer.employee_id in approver.get("/access/role-requests/").content.decode()
    assert 'data-testid="approve"' in approver.get(response["Location"]).content.decode()
    assert approver.post(f"/access/role-requests/{request.pk}/approve/").status_code == 302
    assert holds(newcomer, "sales")

    # The requester cannot approve their own request from the page either.
    second = head.post(
        "/access/role-requests/new/",
        {"employee_id": newcomer.employee_id, "role": "marketing", "kind": "grant"},
    )
    other = RoleChangeRequest.objects.get(role__code="marketing")
    assert second.status_code == 302
    refused = head.post(f"/access/role-requests/{other.pk}/approve/", follow=True)
    assert "You do not have permission" in refused.content.decode()
    other.refresh_from_db()
    assert other.status == "submitted" and not holds(newcomer, "marketing")


def test_role_request_form_errors(crm):
    head = browser(crm.head)
    response = head.post(
        "/access/role-requests/new/", {"employee_id": "E9999999", "role": "sales", "kind": "grant"}
    )
    assert response.status_code == 200
    assert "No employee has this 工号." in response.content.decode()
    response = head.post(
        "/access/role-requests/new/",
        {"employee_id": crm.agent.employee_id, "role": "sales", "kind": "grant"},
    )
    assert "head of the employee" in response.content.decode()
    assert not RoleChangeRequest.objects.exists()


def test_the_home_page_tells_a_reviewer_what_awaits(crm):
    assert 'data-testid="home-reviews"' not in browser(crm.head).get("/").content.decode()
    campaign = start(crm)
    page = browser(crm.head).get("/").content.decode()
    assert 'data-testid="home-reviews"' in page
    assert "1 access-review item awaits your decision" in page
    assert campaign.due_date.isoformat() in page
    assert 'data-testid="home-reviews"' not in browser(crm.rep_c).get("/").content.decode()
