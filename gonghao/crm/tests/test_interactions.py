"""Interactions: every role × endpoint and page; recording rules, my follow-ups, marking done."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from gonghao.audit.models import AuditEvent
from gonghao.crm import followups
from gonghao.crm.models import Contact, Interaction
from gonghao.testing.crm import make_customer
from gonghao.testing.kit import ApiClient, api_for
from gonghao.testing.matrix import (
    CUSTOMER_REFUSAL_CODES,
    CUSTOMER_SCOPES,
    ROLES,
    answer_problem,
    customer_target,
    each_in_savepoint,
)


def make_interaction(customer, employee, *, days_ago: int = 1, next_in: int | None = 0, **fields):
    """An interaction row without the service (no audit); next_in: days from today, or None."""
    now = timezone.now()
    return Interaction.objects.create(
        customer=customer,
        employee=employee,
        kind=fields.pop("kind", "call"),
        occurred_at=now - timedelta(days=days_ago),
        content=fields.pop("content", "电话沟通"),
        next_follow_up=None if next_in is None else timezone.localdate(now) + timedelta(next_in),
        **fields,
    )


def _events() -> list[str]:
    return list(
        AuditEvent.objects.filter(action__startswith="interaction.")
        .order_by("seq")
        .values_list("action", flat=True)
    )


API_EXPECTED: dict[tuple[str, str], dict[str, int]] = {
    ("timeline", "in"): {"admin": 200, "head": 200, "rep_a": 200, "agent": 200},
    ("timeline", "out"): {"head": 404, "rep_a": 404},
    ("record", "in"): {"admin": 403, "head": 201, "rep_a": 201, "agent": 201},
    ("record", "out"): {"head": 404, "rep_a": 404},
    ("mine", "-"): {"admin": 200, "head": 200, "rep_a": 200, "agent": 200},
    ("done", "in"): {"admin": 200, "head": 200, "rep_a": 200, "agent": 200},
    ("done", "out"): {"head": 404, "rep_a": 404},
}

AUDIT_ON_SUCCESS = {
    "timeline": None,
    "record": "interaction.create",
    "mine": None,
    "done": "interaction.follow_up_done",
}


def _call_api(api, operation: str, customer, interaction):
    if operation == "timeline":
        return api.get(f"/api/v1/customers/{customer.pk}/interactions")
    if operation == "record":
        return api.post(
            f"/api/v1/customers/{customer.pk}/interactions", {"kind": "call", "content": "回访"}
        )
    if operation == "mine":
        return api.get("/api/v1/interactions/mine", {"due": "all"})
    if operation == "done":
        return api.post(f"/api/v1/interactions/{interaction.pk}/done")
    raise AssertionError(operation)


@pytest.mark.parametrize("role", ROLES)
def test_api_matrix(crm, role):
    employee = getattr(crm, role)
    api = api_for(employee)

    def check(operation, scope, status):
        customer = crm.customer_a if scope == "-" else customer_target(crm, role, scope)
        # The caller's own open follow-up on the target: "done" acts on it.
        interaction = make_interaction(customer, employee)
        return answer_problem(
            lambda: _call_api(api, operation, customer, interaction),
            status,
            events=_events,
            on_success=AUDIT_ON_SUCCESS[operation],
            refusal_codes=(*CUSTOMER_REFUSAL_CODES, "interaction_not_found"),
        )

    assert each_in_savepoint(CUSTOMER_SCOPES.cases(API_EXPECTED, role), check) == []


@pytest.mark.parametrize("operation", sorted({op for op, _scope in API_EXPECTED}))
def test_api_anonymous_gets_401(crm, operation):
    interaction = make_interaction(crm.customer_a, crm.rep_a)
    response = _call_api(ApiClient(), operation, crm.customer_a, interaction)
    assert response.status_code == 401


# --- recording --------------------------------------------------------------------------------


def test_record_defaults_and_timeline(crm, frozen_clock):
    contact = Contact.objects.create(customer=crm.customer_a, name="李经理")
    api = api_for(crm.rep_a)
    response = api.post(
        f"/api/v1/customers/{crm.customer_a.pk}/interactions",
        {
            "kind": "visit",
            "content": "上门拜访，确认需求",
            "outcome": "报价",
            "contact_id": contact.pk,
            "next_follow_up": (timezone.localdate(frozen_clock()) + timedelta(3)).isoformat(),
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["employee"] == {"employee_id": crm.rep_a.employee_id, "name": "张三"}
    assert body["contact"] == {"id": contact.pk, "name": "李经理"}
    stored = Interaction.objects.get(pk=body["id"])
    assert stored.occurred_at == frozen_clock()
    assert stored.employee == crm.rep_a
    event = AuditEvent.objects.filter(action="interaction.create").latest("seq")
    assert event.summary == "Recorded a visit with customer 上海甲公司"
    assert event.target_type == "crm.customer" and event.target_id == str(crm.customer_a.pk)
    # The agent (another employee) records too; the timeline lists newest first.
    frozen_clock.advance(minutes=10)
    api_for(crm.agent).post(
        f"/api/v1/customers/{crm.customer_a.pk}/interactions",
        {"kind": "service_request", "content": "报修"},
    )
    timeline = api.get(f"/api/v1/customers/{crm.customer_a.pk}/interactions").json()
    assert timeline["count"] == 2
    assert [i["employee"]["employee_id"] for i in timeline["items"]] == [
        crm.agent.employee_id,
        crm.rep_a.employee_id,
    ]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"kind": "telepathy", "content": "x"}, "kind"),
        ({"kind": "call"}, "content"),
        ({"kind": "call", "content": ""}, "content"),
        ({"kind": "call", "content": "x", "outcome": "o" * 301}, "outcome"),
        ({"kind": "call", "content": "x", "occurred_at": "not a time"}, "occurred_at"),
        ({"kind": "call", "content": "x", "extra": 1}, "extra"),
    ],
)
def test_record_schema_validation(crm, payload, field):
    response = api_for(crm.rep_a).post(
        f"/api/v1/customers/{crm.customer_a.pk}/interactions", payload
    )
    assert response.status_code == 422, response.content
    assert field in response.json()["details"]["fields"]
    assert not Interaction.objects.exists()
    assert _events() == []


def test_record_rules(crm, frozen_clock):
    api = api_for(crm.rep_a)
    path = f"/api/v1/customers/{crm.customer_a.pk}/interactions"
    now = frozen_clock()
    other_contact = Contact.objects.create(customer=crm.customer_b, name="别家的人")
    cases = [
        ({"occurred_at": (now + timedelta(minutes=6)).isoformat()}, "occurred_at"),
        (
            {
                "occurred_at": (now - timedelta(days=2)).isoformat(),
                "next_follow_up": (timezone.localdate(now) - timedelta(days=3)).isoformat(),
            },
            "next_follow_up",
        ),
        ({"contact_id": other_contact.pk}, "contact_id"),
        ({"contact_id": 999999}, "contact_id"),
    ]
    for extra, field in cases:
        response = api.post(path, {"kind": "call", "content": "x", **extra})
        assert response.status_code == 422, (extra, response.content)
        assert field in response.json()["details"]["fields"], extra
    assert not Interaction.objects.exists()
    assert _events() == []
    # Four minutes ahead is tolerated (a caller's clock a little fast), and a past time too.
    ok = api.post(
        path,
        {"kind": "call", "content": "x", "occurred_at": (now + timedelta(minutes=4)).isoformat()},
    )
    assert ok.status_code == 201
    past = api.post(
        path,
        {
            "kind": "call",
            "content": "x",
            "occurred_at": (now - timedelta(days=2)).isoformat(),
            "next_follow_up": timezone.localdate(now - timedelta(days=2)).isoformat(),
        },
    )
    assert past.status_code == 201


def test_recording_closes_my_earlier_open_follow_ups_on_that_customer(crm):
    mine = make_interaction(crm.customer_a, crm.rep_a, next_in=-2)
    mine_elsewhere = make_interaction(crm.customer_b, crm.rep_a, next_in=-2)
    someone_elses = make_interaction(crm.customer_a, crm.agent, next_in=-2)
    followups.record_interaction(
        crm.customer_a.pk, actor=crm.rep_a, data={"kind": "call", "content": "再次沟通"}
    )
    for row in (mine, mine_elsewhere, someone_elses):
        row.refresh_from_db()
    assert mine.follow_up_done_at is not None
    assert mine_elsewhere.follow_up_done_at is None
    assert someone_elses.follow_up_done_at is None
    event = AuditEvent.objects.filter(action="interaction.create").latest("seq")
    assert event.changes["follow_ups_done"] == [None, [mine.pk]]


# --- my follow-ups ----------------------------------------------------------------------------


def test_my_follow_ups_today_and_overdue(crm, frozen_clock):
    today_row = make_interaction(crm.customer_a, crm.rep_a, next_in=0)
    overdue_row = make_interaction(crm.customer_a, crm.rep_a, days_ago=5, next_in=-3)
    make_interaction(crm.customer_a, crm.rep_a, next_in=2)  # not due yet
    make_interaction(crm.customer_a, crm.rep_a, next_in=None)  # no follow-up
    make_interaction(crm.customer_a, crm.head, next_in=-1)  # someone else's
    done = make_interaction(crm.customer_a, crm.rep_a, next_in=-1)
    done.follow_up_done_at = timezone.now()
    done.save()
    api = api_for(crm.rep_a)

    def ids(due):
        body = api.get("/api/v1/interactions/mine", {"due": due}).json()
        assert body["count"] == len(body["items"])
        return [i["id"] for i in body["items"]]

    assert ids("today") == [today_row.pk]
    assert ids("overdue") == [overdue_row.pk]
    assert ids("all") == [overdue_row.pk, today_row.pk]
    # Two days later, all three open ones are due or overdue; nothing today.
    frozen_clock.advance(days=2)
    api = api_for(crm.rep_a)  # a new token: the first one has expired by now
    assert len(ids("all")) == 3
    assert ids("today") != [today_row.pk]
    assert api.get("/api/v1/interactions/mine", {"due": "soon"}).status_code == 422


def test_my_follow_ups_skip_deleted_and_out_of_scope_customers(crm):
    gone = make_customer(crm.rep_a, "已删除公司")
    make_interaction(gone, crm.rep_a, next_in=0)
    gone.deleted_at = timezone.now()
    gone.save()
    # rep_a once followed up customer_b (now someone else's, outside rep_a's own scope).
    make_interaction(crm.customer_b, crm.rep_a, next_in=0)
    visible = make_interaction(crm.customer_a, crm.rep_a, next_in=0)
    body = api_for(crm.rep_a).get("/api/v1/interactions/mine").json()
    assert [i["id"] for i in body["items"]] == [visible.pk]


def test_today_is_the_viewers_day(crm, frozen_clock):
    # 23:30 UTC is already tomorrow in Shanghai (UTC+8).
    frozen_clock.current = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    row = make_interaction(crm.customer_a, crm.rep_a, next_in=None)
    row.next_follow_up = date(2026, 3, 2)
    row.save()
    with timezone.override("Asia/Shanghai"):
        assert list(followups.my_follow_ups(crm.rep_a, "today")) == [row]
    with timezone.override("UTC"):
        assert list(followups.my_follow_ups(crm.rep_a, "today")) == []


def test_mark_done(crm):
    mine = make_interaction(crm.customer_a, crm.rep_a, next_in=0)
    theirs = make_interaction(crm.customer_a, crm.head, next_in=0)
    no_follow_up = make_interaction(crm.customer_a, crm.rep_a, next_in=None)
    api = api_for(crm.rep_a)
    response = api.post(f"/api/v1/interactions/{mine.pk}/done")
    assert response.status_code == 200
    assert response.json()["follow_up_done_at"] is not None
    assert _events() == ["interaction.follow_up_done"]
    # Again: nothing changes, nothing audited.
    assert api.post(f"/api/v1/interactions/{mine.pk}/done").status_code == 200
    assert _events() == ["interaction.follow_up_done"]
    refused = api.post(f"/api/v1/interactions/{theirs.pk}/done")
    assert refused.status_code == 403
    assert api.post(f"/api/v1/interactions/{no_follow_up.pk}/done").status_code == 409
    assert api.post("/api/v1/interactions/999999/done").status_code == 404
    assert _events() == ["interaction.follow_up_done"]
    theirs.refresh_from_db()
    assert theirs.follow_up_done_at is None


# --- pages ------------------------------------------------------------------------------------

PAGE_EXPECTED: dict[tuple[str, str], dict[str, int]] = {
    ("form", "in"): {"admin": 403, "head": 200, "rep_a": 200, "agent": 200},
    ("form", "out"): {"head": 404, "rep_a": 404},
    ("record", "in"): {"admin": 403, "head": 302, "rep_a": 302, "agent": 302},
    ("record", "out"): {"head": 404, "rep_a": 404},
    ("record_htmx", "in"): {"admin": 403, "head": 200, "rep_a": 200, "agent": 200},
    ("record_htmx", "out"): {"head": 404, "rep_a": 404},
    ("done", "in"): {"admin": 302, "head": 302, "rep_a": 302, "agent": 302},
    ("done", "out"): {"head": 404, "rep_a": 404},
    ("follow_ups", "-"): {"admin": 200, "head": 200, "rep_a": 200, "agent": 200},
}

PAGE_AUDIT = {
    "form": None,
    "record": "interaction.create",
    "record_htmx": "interaction.create",
    "done": "interaction.follow_up_done",
    "follow_ups": None,
}


def _call_page(client: Client, operation: str, customer, interaction):
    path = f"/customers/{customer.pk}/interactions/new/"
    if operation == "form":
        return client.get(path)
    if operation == "record":
        return client.post(path, {"kind": "call", "content": "回访"})
    if operation == "record_htmx":
        return client.post(
            path, {"kind": "call", "content": "回访"}, headers={"HX-Request": "true"}
        )
    if operation == "done":
        return client.post(f"/customers/interactions/{interaction.pk}/done/")
    if operation == "follow_ups":
        return client.get("/customers/follow-ups/")
    raise AssertionError(operation)


@pytest.mark.parametrize("role", ROLES)
def test_page_matrix(crm, client, role):
    employee = getattr(crm, role)
    client.force_login(employee)

    def check(operation, scope, status):
        customer = crm.customer_a if scope == "-" else customer_target(crm, role, scope)
        interaction = make_interaction(customer, employee)
        return answer_problem(
            lambda: _call_page(client, operation, customer, interaction),
            status,
            events=_events,
            on_success=PAGE_AUDIT[operation],
        )

    assert each_in_savepoint(CUSTOMER_SCOPES.cases(PAGE_EXPECTED, role), check) == []


@pytest.mark.parametrize("operation", sorted({op for op, _scope in PAGE_EXPECTED}))
def test_pages_anonymous_redirect_to_login(crm, client, operation):
    interaction = make_interaction(crm.customer_a, crm.rep_a)
    response = _call_page(client, operation, crm.customer_a, interaction)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_follow_ups_page_and_home_list_my_due_follow_ups(crm):
    make_interaction(crm.customer_a, crm.rep_a, next_in=0, content="今天要回访")
    make_interaction(crm.customer_a, crm.rep_a, days_ago=4, next_in=-2, content="逾期了")
    make_interaction(crm.customer_a, crm.rep_a, next_in=3, content="以后再说")
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(crm.rep_a)
    page = client.get("/customers/follow-ups/")
    assert [i.content for i in page.context["follow_ups_today"]] == ["今天要回访"]
    assert [i.content for i in page.context["follow_ups_overdue"]] == ["逾期了"]
    html = page.content.decode()
    assert "今天要回访" in html and "逾期了" in html and "以后再说" not in html
    home = client.get("/")
    assert home.status_code == 200
    [section] = [
        s for s in home.context["home_sections"] if s.template == "crm/_home_followups.html"
    ]
    assert [i.content for i in section.context["follow_ups_today"]] == ["今天要回访"]
    assert 'data-testid="home-follow-ups"' in home.content.decode()


def test_home_page_for_someone_without_customers(crm, client):
    client.force_login(crm.auditor)
    home = client.get("/")
    assert home.status_code == 200
    assert home.context["home_sections"] == []
    assert 'data-testid="home-follow-ups"' not in home.content.decode()
