"""Access reviews through the API: campaign → item → keep or revoke (access really gone),
reviewer assignment and its fallbacks, refusals that change nothing, the due-date default,
reminders and repeats run by the scheduler, the report, and when a grant was last used."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gonghao.access.models import RoleGrant
from gonghao.access.services import has_permission, roles_of
from gonghao.audit.models import AuditEvent
from gonghao.audit.services import record
from gonghao.core import jobs
from gonghao.lifecycle import reviews
from gonghao.lifecycle.access_models import (
    AccessReviewCampaign,
    AccessReviewItem,
    ReviewReminder,
)
from gonghao.messaging.models import Message
from gonghao.testing.crm import make_crm_cast
from gonghao.testing.kit import api_for, make_employee

URL = "/api/v1/access-reviews"
pytestmark = pytest.mark.django_db


@pytest.fixture
def crm(db):
    return make_crm_cast()


def last_seq() -> int:
    last = AuditEvent.objects.order_by("-seq").first()
    return last.seq if last else 0


# Issuing a test client's token is audited too; these tests look past it.
TOKEN_EVENT = "auth.token.create"


def events_since(seq: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(seq__gt=seq).exclude(action=TOKEN_EVENT).order_by("seq"))


def start(crm, api=None, **body) -> dict:
    api = api or api_for(crm.security_admin)
    response = api.post(URL, {"scope": "department", "department_id": crm.sales.pk, **body})
    assert response.status_code == 201, response.content
    return response.json()


def item_of(campaign_id: int, employee, role: str) -> AccessReviewItem:
    return AccessReviewItem.objects.get(campaign_id=campaign_id, employee=employee, role__code=role)


def holds(employee, role: str) -> bool:
    return RoleGrant.objects.in_force().filter(employee=employee, role__code=role).exists()


def state() -> tuple:
    """Everything a refused call must leave as it was."""
    return (
        AuditEvent.objects.exclude(action=TOKEN_EVENT).count(),
        RoleGrant.objects.in_force().count(),
        list(AccessReviewItem.objects.order_by("pk").values_list("decision", "outcome")),
        AccessReviewCampaign.objects.count(),
    )


# --- the full path ------------------------------------------------------------------------------


def test_revoke_takes_the_access_away_at_once(crm):
    rep_api = api_for(crm.rep_a)
    assert rep_api.get("/api/v1/customers").status_code == 200
    campaign = start(crm)
    assert campaign["counts"]["total"] == 3  # head, rep_a (Sales), rep_b (Sales East)
    item = item_of(campaign["id"], crm.rep_a, "sales")
    assert item.reviewer == crm.head

    head_api = api_for(crm.head)
    queue = head_api.get(f"{URL}/items", {"decision": "pending"}).json()
    assert [i["employee_id"] for i in queue["items"]] == [crm.rep_a.employee_id]

    mark = last_seq()
    response = head_api.post(
        f"{URL}/items/{item.pk}/decide", {"decision": "revoke", "comment": "调岗，不再负责销售"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["decision"], body["outcome"], body["decided_by"]) == (
        "revoke",
        "revoked",
        crm.head.employee_id,
    )
    assert not holds(crm.rep_a, "sales")
    refused = rep_api.get("/api/v1/customers")
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"

    events = events_since(mark)
    assert [e.action for e in events] == ["role.revoke", "access_review.decide"]
    assert all(e.actor_employee_id == crm.head.employee_id for e in events)
    assert events[0].params == {
        "role": "sales",
        "via": "access_review",
        "campaign": campaign["id"],
        "item": item.pk,
    }
    assert events[1].target_id == str(crm.rep_a.pk)
    assert events[1].params == {
        "campaign": campaign["id"],
        "item": item.pk,
        "role": "sales",
        "decision": "revoke",
        "outcome": "revoked",
        "comment": "调岗，不再负责销售",
    }


def test_keep_leaves_the_grant_and_is_audited(crm):
    campaign = start(crm)
    item = item_of(campaign["id"], crm.rep_b, "sales")
    assert item.reviewer == crm.rep_a
    mark = last_seq()
    response = api_for(crm.rep_a).post(f"{URL}/items/{item.pk}/decide", {"decision": "keep"})
    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "kept"
    assert holds(crm.rep_b, "sales")
    assert [e.action for e in events_since(mark)] == ["access_review.decide"]


def test_the_start_is_audited_with_its_scope(crm):
    mark = last_seq()
    campaign = start(crm, name="Q4 销售权限审核", undecided_default="keep", due_date=None)
    events = events_since(mark)
    assert [e.action for e in events] == ["access_review.start"]
    assert events[0].params == {
        "campaign": campaign["id"],
        "name": "Q4 销售权限审核",
        "items": 3,
        "scope": "department",
        "department": "SALES",
    }
    assert campaign["undecided_default"] == "keep"
    assert campaign["owner"] == crm.security_admin.employee_id


def test_bulk_decisions_are_all_or_nothing(crm):
    campaign = start(crm, scope="all")
    owner_items = list(
        AccessReviewItem.objects.filter(campaign_id=campaign["id"], reviewer=crm.security_admin)
    )
    assert len(owner_items) >= 2
    api = api_for(crm.security_admin)
    foreign = item_of(campaign["id"], crm.rep_a, "sales")  # reviewed by the head
    before = state()
    refused = api.post(
        f"{URL}/items/decide",
        {"item_ids": [i.pk for i in owner_items] + [foreign.pk], "decision": "keep"},
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "not_your_item"
    assert state() == before

    done = api.post(
        f"{URL}/items/decide", {"item_ids": [i.pk for i in owner_items], "decision": "keep"}
    )
    assert done.status_code == 200, done.content
    assert done.json()["count"] == len(owner_items)
    assert all(i["decision"] == "keep" for i in done.json()["items"])


# --- reviewers ----------------------------------------------------------------------------------


def test_reviewer_is_the_manager_else_the_head_else_the_owner_never_oneself(crm):
    crm.service.head = crm.agent
    crm.service.save()
    departed_boss = make_employee("离职经理", department=crm.hq, status="departed")
    crm.marketer.manager = departed_boss
    crm.marketer.save()
    campaign = start(crm, scope="all")
    reviewer = {
        (i.employee_id, i.role.code): i.reviewer_id
        for i in AccessReviewItem.objects.filter(campaign_id=campaign["id"]).select_related("role")
    }
    assert reviewer[(crm.rep_a.pk, "sales")] == crm.head.pk  # manager
    assert reviewer[(crm.rep_b.pk, "sales")] == crm.rep_a.pk  # manager
    assert reviewer[(crm.rep_c.pk, "sales")] == crm.agent.pk  # head of Service
    # The head of Service heads their own department: up the tree (HQ has none) to the owner.
    assert reviewer[(crm.agent.pk, "customer_service")] == crm.security_admin.pk
    # The head of Sales has no manager and heads Sales: the owner.
    assert reviewer[(crm.head.pk, "department_head")] == crm.security_admin.pk
    # A departed manager reviews nothing.
    assert reviewer[(crm.marketer.pk, "marketing")] == crm.security_admin.pk
    # The owner's own grant goes to another holder of access_review.manage.
    assert reviewer[(crm.security_admin.pk, "security_admin")] == crm.admin.pk
    assert all(reviewer_id != employee_id for (employee_id, _r), reviewer_id in reviewer.items())
    # No grants of departed employees, nor of employees without roles.
    assert not {crm.nobody.pk, departed_boss.pk} & {e for e, _r in reviewer}


def test_a_role_campaign_covers_only_that_role(crm):
    campaign = start(crm, scope="role", role="sales", department_id=None)
    items = AccessReviewItem.objects.filter(campaign_id=campaign["id"])
    assert {i.role.code for i in items} == {"sales"}
    assert {i.employee_id for i in items} == {crm.rep_a.pk, crm.rep_b.pk, crm.rep_c.pk}
    assert campaign["department"] is None and campaign["role"] == "sales"


# --- refusals -----------------------------------------------------------------------------------


def test_only_review_managers_start_campaigns(crm):
    before = state()
    refused = api_for(crm.head).post(URL, {"scope": "all"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"
    assert state() == before


@pytest.mark.parametrize(
    "body,field",
    [
        ({"scope": "department"}, "department_id"),
        ({"scope": "role"}, "role"),
        ({"scope": "role", "role": "no-such-role"}, "role"),
        ({"scope": "all", "due_date": "2000-01-01"}, "due_date"),
        ({"scope": "all", "due_date": "2999-01-01"}, "due_date"),
        ({"scope": "everyone"}, "scope"),
        ({"scope": "all", "undecided_default": "maybe"}, "undecided_default"),
        ({"scope": "all", "repeat": "weekly"}, "repeat"),
        ({"scope": "all", "name": "x" * 201}, "name"),
    ],
)
def test_bad_campaigns_are_422_and_store_nothing(crm, body, field):
    before = state()
    response = api_for(crm.security_admin).post(URL, body)
    assert response.status_code == 422, response.content
    assert field in response.json()["details"]["fields"]
    assert state() == before


def test_refusals_on_items_change_nothing(crm):
    campaign = start(crm)
    item = item_of(campaign["id"], crm.rep_a, "sales")
    path = f"{URL}/items/{item.pk}/decide"

    before = state()
    # Not your item: another reviewer cannot even see it …
    hidden = api_for(crm.rep_a).post(path, {"decision": "keep"})
    assert (hidden.status_code, hidden.json()["code"]) == (404, "review_item_not_found")
    # … a review manager sees it but may not decide it for the reviewer.
    not_mine = api_for(crm.security_admin).post(path, {"decision": "keep"})
    assert (not_mine.status_code, not_mine.json()["code"]) == (403, "not_your_item")
    # A revocation needs a comment.
    bare = api_for(crm.head).post(path, {"decision": "revoke", "comment": "  "})
    assert bare.status_code == 422
    assert "comment" in bare.json()["details"]["fields"]
    bad = api_for(crm.head).post(path, {"decision": "pending"})
    assert bad.status_code == 422
    unknown = api_for(crm.head).post(f"{URL}/items/999999/decide", {"decision": "keep"})
    assert unknown.status_code == 404
    assert state() == before

    assert api_for(crm.head).post(path, {"decision": "keep"}).status_code == 200
    before = state()
    again = api_for(crm.head).post(path, {"decision": "revoke", "comment": "改主意"})
    assert (again.status_code, again.json()["code"]) == (409, "item_already_decided")
    assert state() == before
    assert holds(crm.rep_a, "sales")


def test_who_sees_campaigns_and_reports(crm):
    campaign = start(crm)
    report = f"{URL}/{campaign['id']}/report"
    assert api_for(crm.admin).get(report).status_code == 200  # system_admin manages reviews
    # A reviewer sees the campaign they review in, not its full report.
    assert api_for(crm.head).get(f"{URL}/{campaign['id']}").status_code == 200
    assert api_for(crm.head).get(report).status_code == 403
    assert api_for(crm.head).get(URL).json()["count"] == 1
    # Someone with no item in it sees nothing.
    assert api_for(crm.rep_c).get(f"{URL}/{campaign['id']}").status_code == 404
    assert api_for(crm.rep_c).get(URL).json() == {"items": [], "count": 0}
    assert api_for(crm.rep_c).get(f"{URL}/items").json() == {"items": [], "count": 0}
    assert api_for(crm.auditor).get(report).status_code == 404


# --- the scheduler ------------------------------------------------------------------------------


def run(name: str, frozen_clock) -> dict:
    outcome = jobs.run_job(jobs.get_job(name), force=True)
    assert outcome.status == "done", outcome.result
    return outcome.result


@pytest.mark.parametrize("default,revoked", [("revoke", True), ("keep", False)])
def test_undecided_items_get_the_default_at_the_due_date(crm, frozen_clock, default, revoked):
    today = reviews.local_today()
    campaign = start(crm, undecided_default=default, due_date=str(today + timedelta(days=2)))
    decided = item_of(campaign["id"], crm.rep_b, "sales")
    api_for(crm.rep_a).post(f"{URL}/items/{decided.pk}/decide", {"decision": "keep"})

    assert run("access_reviews.close", frozen_clock) == {"closed": 0, "defaulted": 0, "revoked": 0}
    frozen_clock.advance(days=3)
    mark = last_seq()
    result = run("access_reviews.close", frozen_clock)
    assert result == {"closed": 1, "defaulted": 2, "revoked": 2 if revoked else 0}
    assert holds(crm.rep_a, "sales") is not revoked
    assert holds(crm.head, "department_head") is not revoked
    assert holds(crm.rep_b, "sales")  # decided "keep" before
    actions = [e.action for e in events_since(mark)]
    per_item = (["role.revoke"] if revoked else []) + ["access_review.decide"]
    assert actions == per_item * 2 + ["access_review.close"]
    assert all(e.actor_kind == "system" for e in events_since(mark))
    items = AccessReviewItem.objects.filter(campaign_id=campaign["id"], by_default=True)
    assert {i.decision for i in items} == {default}

    mark = last_seq()
    assert run("access_reviews.close", frozen_clock)["closed"] == 0  # idempotent
    assert events_since(mark) == []
    late = api_for(crm.head).post(
        f"{URL}/items/{item_of(campaign['id'], crm.rep_a, 'sales').pk}/decide",
        {"decision": "keep"},
    )
    assert (late.status_code, late.json()["code"]) == (409, "review_closed")


def test_reminders_go_once_a_day_before_the_due_date(crm, frozen_clock, settings):
    settings.GONGHAO_ACCESS_REVIEW_REMINDER_DAYS = 3
    crm.head.email = "head@example.cn"
    crm.head.save()
    today = reviews.local_today()
    campaign = start(crm, due_date=str(today + timedelta(days=5)))
    assert run("access_reviews.remind", frozen_clock) == {"reminded": 0, "skipped": 0}

    frozen_clock.advance(days=2)  # three days before the due date
    result = run("access_reviews.remind", frozen_clock)
    # The head (rep_a's item) by e-mail; rep_a (rep_b's item) has no address: noted, not sent.
    # The owner reviews the head's own grant.
    assert result == {"reminded": 3, "skipped": 0}
    mails = Message.objects.filter(template="access_review.reminder")
    assert [(m.recipient, m.employee_id) for m in mails] == [("head@example.cn", crm.head.pk)]
    assert "1" in mails[0].body and campaign["name"] in mails[0].body

    assert run("access_reviews.remind", frozen_clock) == {"reminded": 0, "skipped": 3}
    assert mails.count() == 1
    assert ReviewReminder.objects.count() == 3

    frozen_clock.advance(days=1)
    api_for(crm.head).post(
        f"{URL}/items/{item_of(campaign['id'], crm.rep_a, 'sales').pk}/decide",
        {"decision": "keep"},
    )
    assert run("access_reviews.remind", frozen_clock) == {"reminded": 2, "skipped": 0}
    assert mails.count() == 1  # the head has nothing left to decide


def test_a_quarterly_campaign_starts_its_next_round_once(crm, frozen_clock):
    first = start(crm, repeat="quarterly", due_date=str(reviews.local_today() + timedelta(10)))
    assert run("access_reviews.repeat", frozen_clock) == {"created": 0}
    frozen_clock.advance(days=93)
    mark = last_seq()
    assert run("access_reviews.repeat", frozen_clock) == {"created": 1}
    assert run("access_reviews.repeat", frozen_clock) == {"created": 0}
    following = AccessReviewCampaign.objects.get(previous_id=first["id"])
    assert following.repeat == "quarterly" and following.scope == "department"
    assert following.starts_on == reviews.add_months(
        AccessReviewCampaign.objects.get(pk=first["id"]).starts_on, 3
    )
    assert (following.due_date - following.starts_on).days == 10
    assert following.items.count() == 3
    start_events = [e for e in events_since(mark) if e.action == "access_review.start"]
    assert len(start_events) == 1 and start_events[0].actor_kind == "system"
    assert start_events[0].params["previous"] == first["id"]


def test_the_scheduler_entry_point_runs_the_review_jobs():
    names = {job.name for job in jobs.all_jobs()}
    assert {"access_reviews.close", "access_reviews.remind", "access_reviews.repeat"} <= names


# --- report and last use ------------------------------------------------------------------------


def test_the_report_says_who_decided_what(crm, frozen_clock):
    campaign = start(crm, undecided_default="keep")
    head_item = item_of(campaign["id"], crm.rep_a, "sales")
    api_for(crm.head).post(
        f"{URL}/items/{head_item.pk}/decide", {"decision": "revoke", "comment": "离岗"}
    )
    report = api_for(crm.security_admin).get(f"{URL}/{campaign['id']}/report").json()
    assert report["count"] == 3
    assert report["campaign"]["counts"] == {
        "total": 3,
        "pending": 2,
        "kept": 0,
        "revoked": 1,
        "by_default": 0,
        "already_ended": 0,
        "unassigned": 0,
    }
    row = next(i for i in report["items"] if i["employee_id"] == crm.rep_a.employee_id)
    assert (row["decision"], row["decided_by"], row["comment"]) == (
        "revoke",
        crm.head.employee_id,
        "离岗",
    )
    frozen_clock.advance(days=20)
    run("access_reviews.close", frozen_clock)
    counts = api_for(crm.security_admin).get(f"{URL}/{campaign['id']}").json()["counts"]
    assert (counts["pending"], counts["kept"], counts["by_default"], counts["revoked"]) == (
        0,
        2,
        2,
        1,
    )


def test_an_item_shows_when_its_permissions_were_last_used(crm, frozen_clock):
    campaign = start(crm)
    frozen_clock.advance(hours=1)
    used_at = frozen_clock.current
    record("customer.update", actor=crm.rep_a, target=crm.customer_a)
    record("auth.login.succeeded", actor=crm.rep_b, target=crm.rep_b)  # not a permission's use
    record("role.grant", actor=crm.head, target=crm.rep_b, params={"via": "onboarding"})
    items = {
        i["employee_id"]: i
        for i in api_for(crm.security_admin).get(f"{URL}/{campaign['id']}/report").json()["items"]
    }
    assert items[crm.rep_a.employee_id]["last_used_at"] is not None
    assert abs((_parse(items[crm.rep_a.employee_id]["last_used_at"]) - used_at).total_seconds()) < 1
    assert items[crm.rep_b.employee_id]["last_used_at"] is None
    assert items[crm.head.employee_id]["last_used_at"] is None


def _parse(text: str):
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_the_queue_costs_the_same_queries_for_one_item_or_many(crm):
    campaign = start(crm, scope="all")
    api = api_for(crm.security_admin)
    api.get(f"{URL}/items")  # warm the token and permission caches

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get(f"{URL}/items", {"limit": 1}).status_code == 200
        few = len(captured)
        with CaptureQueriesContext(connection) as captured:
            response = api.get(f"{URL}/items", {"limit": 50})
        assert response.json()["count"] > 3
        return few, len(captured)

    few, many = queries()
    assert few == many
    report_small = CaptureQueriesContext(connection)
    with report_small:
        api.get(f"{URL}/{campaign['id']}/report", {"limit": 1})
    report_large = CaptureQueriesContext(connection)
    with report_large:
        api.get(f"{URL}/{campaign['id']}/report", {"limit": 200})
    assert len(report_small) == len(report_large)


def test_grants_revoked_elsewhere_are_noted_not_revoked_twice(crm):
    campaign = start(crm)
    item = item_of(campaign["id"], crm.rep_a, "sales")
    from gonghao.access.services import revoke_role

    revoke_role(crm.rep_a, "sales", actor=crm.security_admin)
    response = api_for(crm.head).post(
        f"{URL}/items/{item.pk}/decide", {"decision": "revoke", "comment": "已离岗"}
    )
    assert response.json()["outcome"] == "already_ended"
    assert RoleGrant.objects.filter(employee=crm.rep_a, role__code="sales").count() == 1
    assert "sales" not in {r.code for r in roles_of(crm.rep_a)}
    assert not has_permission(crm.rep_a, "customer.create")


def test_the_campaign_list_costs_the_same_queries_for_one_campaign_or_many(crm):
    api = api_for(crm.security_admin)
    start(crm, api=api)
    api.get(URL)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get(URL).status_code == 200
        return len(captured)

    one = queries()
    for _ in range(3):
        start(crm, api=api, scope="all")
    listed = api.get(URL).json()
    assert listed["count"] == 4
    assert listed["items"][0]["counts"]["total"] > 3
    assert queries() == one
