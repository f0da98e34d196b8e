"""GET /api/v1/audit-events and POST /api/v1/audit-events/verify: auditors only."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from gonghao.audit.models import AuditEvent
from gonghao.audit.services import record
from gonghao.core import context
from gonghao.org.models import Department
from gonghao.testing.kit import ApiClient, api_as

from .util import TABLE, actions_after, events_after, execute, last_seq

LIST = "/api/v1/audit-events"
VERIFY = "/api/v1/audit-events/verify"


def seqs(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["seq"] for item in response.json()["items"]]


# --- who may call --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "security_admin", "employee"])
def test_non_auditors_are_refused(cast, role):
    api = api_as(getattr(cast, role))
    before = last_seq()

    for response in (api.get(LIST), api.post(VERIFY)):
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
        assert response.json()["message"] == "You do not have permission to do this."
    assert "audit.verify" not in actions_after(before)


def test_anonymous_callers_must_authenticate(cast):
    anonymous = ApiClient()
    for response in (anonymous.get(LIST), anonymous.post(VERIFY)):
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"
        assert response["WWW-Authenticate"] == "Bearer"


def test_a_bad_token_is_not_authenticated(cast):
    response = ApiClient(token="ghk_not-a-real-token").get(LIST)
    assert response.status_code == 401


# --- listing --------------------------------------------------------------------------------------


def test_auditor_lists_every_event_newest_first(auditor_api):
    total = AuditEvent.objects.count()

    body = auditor_api.get(LIST, {"limit": 200}).json()

    assert body["count"] == total
    assert [item["seq"] for item in body["items"]] == list(range(total, 0, -1))


def test_an_item_carries_the_whole_event(cast, auditor_api):
    department = Department.objects.create(code="TEA", name="Tea Department")
    with context.bind(
        request_id="req42", client_ip="198.51.100.7", user_agent="agent/2", channel="web"
    ):
        event = record(
            "department.update",
            actor=cast.admin,
            target=department,
            changes={"name": ["Tea", "Tea Department"]},
        )

    item = auditor_api.get(LIST, {"limit": 1}).json()["items"][0]

    assert item == {
        "seq": event.seq,
        "occurred_at": item["occurred_at"],
        "actor": cast.admin.employee_id,
        "actor_kind": "employee",
        "action": "department.update",
        "summary": "Changed department Tea Department",
        "target_type": "org.department",
        "target_id": str(department.pk),
        "target_label": "Tea Department",
        "changes": {"name": ["Tea", "Tea Department"]},
        "request_id": "req42",
        "client_ip": "198.51.100.7",
        "user_agent": "agent/2",
        "channel": "web",
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }
    assert item["occurred_at"].startswith(event.occurred_at.strftime("%Y-%m-%dT%H:%M:%S"))


def test_system_events_show_the_system_as_actor(cast, auditor_api):
    record("department.create", target_type="org.department", target_id=1, target_label="X")
    item = auditor_api.get(LIST, {"limit": 1}).json()["items"][0]
    assert (item["actor"], item["actor_kind"]) == ("System", "system")


def test_summaries_follow_the_request_language(cast):
    record("department.create", target_type="org.department", target_id=1, target_label="Tea")
    query = {"action": "department.create", "target_id": "1"}

    english = api_as(cast.auditor, language="en").get(LIST, query).json()
    chinese = api_as(cast.auditor, language="zh-hans").get(LIST, query).json()

    assert english["items"][0]["summary"] == "Created department Tea"
    assert "Tea" in chinese["items"][0]["summary"]


# --- filters --------------------------------------------------------------------------------------


@pytest.fixture
def mixed(cast):
    """Events by three actors on three departments, after the cast's own events."""
    start = last_seq()
    tea = Department.objects.create(code="TEA", name="Tea")
    silk = Department.objects.create(code="SILK", name="Silk")
    record("department.create", actor=cast.admin, target=tea)
    record("department.create", actor=cast.admin, target=silk)
    record("department.update", actor=cast.admin, target=tea)
    record("role.grant", actor=cast.security_admin, target=cast.employee, params={"role": "x"})
    record("auth.logout", actor=cast.employee, target=cast.employee)
    return {"start": start, "tea": tea, "silk": silk}


def test_filter_by_the_actors_employee_id(cast, auditor_api, mixed):
    expected = list(
        AuditEvent.objects.filter(actor_employee_id=cast.admin.employee_id).values_list(
            "seq", flat=True
        )
    )
    assert len(expected) >= 3

    for spelling in (
        cast.admin.employee_id,
        cast.admin.employee_id.lower(),
        f" {cast.admin.employee_id[:3]}-{cast.admin.employee_id[3:].lower()} ",
    ):
        response = auditor_api.get(LIST, {"employee_id": spelling, "limit": 200})
        assert seqs(response) == expected, spelling
        assert response.json()["count"] == len(expected)
        assert {i["actor"] for i in response.json()["items"]} == {cast.admin.employee_id}


def test_filter_by_an_unknown_employee_id_finds_nothing(auditor_api, mixed):
    assert auditor_api.get(LIST, {"employee_id": "E9999999"}).json() == {"items": [], "count": 0}


def test_filter_by_exact_action(auditor_api, mixed):
    response = auditor_api.get(LIST, {"action": "department.create"})
    assert {i["action"] for i in response.json()["items"]} == {"department.create"}
    assert response.json()["count"] == AuditEvent.objects.filter(action="department.create").count()
    # An exact code is not a prefix.
    assert auditor_api.get(LIST, {"action": "department"}).json()["count"] == 0


def test_filter_by_action_prefix(auditor_api, mixed):
    response = auditor_api.get(LIST, {"action": "department.*"})
    assert [i["action"] for i in response.json()["items"]] == [
        "department.update",
        "department.create",
        "department.create",
    ]

    auth = auditor_api.get(LIST, {"action": "auth.*", "limit": 200}).json()
    expected = AuditEvent.objects.filter(action__startswith="auth.")
    assert auth["count"] == expected.count() > 0
    assert all(i["action"].startswith("auth.") for i in auth["items"])
    assert {i["action"] for i in auth["items"]} >= {"auth.logout", "auth.login.succeeded"}


def test_filter_by_target(auditor_api, mixed):
    tea = mixed["tea"]
    response = auditor_api.get(LIST, {"target_type": "org.department", "target_id": tea.pk})
    assert [i["action"] for i in response.json()["items"]] == [
        "department.update",
        "department.create",
    ]
    assert {i["target_id"] for i in response.json()["items"]} == {str(tea.pk)}

    # The type is matched case-insensitively, the id exactly.
    by_type = auditor_api.get(LIST, {"target_type": " ORG.Department "}).json()
    assert by_type["count"] == 3
    silk = auditor_api.get(LIST, {"target_type": "org.department", "target_id": mixed["silk"].pk})
    assert [i["target_label"] for i in silk.json()["items"]] == ["Silk"]


def test_filters_combine(cast, auditor_api, mixed):
    response = auditor_api.get(
        LIST,
        {"employee_id": cast.admin.employee_id, "action": "department.*", "target_id": "0"},
    )
    assert response.json() == {"items": [], "count": 0}
    response = auditor_api.get(
        LIST, {"employee_id": cast.security_admin.employee_id, "action": "role.grant"}
    )
    assert [i["target_id"] for i in response.json()["items"]] == [str(cast.employee.pk)]


def test_filter_by_time(frozen_clock, cast, auditor_api):
    t0 = frozen_clock.advance(hours=1)
    first = record("auth.logout", actor=cast.employee)
    t1 = frozen_clock.advance(hours=1)
    second = record("auth.logout", actor=cast.employee)
    t2 = frozen_clock.advance(hours=1)
    third = record("auth.logout", actor=cast.employee)

    def between(**window):
        return seqs(auditor_api.get(LIST, {"action": "auth.logout", **window}))

    assert between() == [third.seq, second.seq, first.seq]
    # `since` is inclusive, `until` exclusive.
    assert between(since=t1.isoformat()) == [third.seq, second.seq]
    assert between(until=t1.isoformat()) == [first.seq]
    assert between(since=t0.isoformat(), until=t2.isoformat()) == [second.seq, first.seq]
    assert between(since=(t2 + timedelta(seconds=1)).isoformat()) == []
    # Another time zone names the same instant.
    shanghai = t1.astimezone(ZoneInfo("Asia/Shanghai"))
    assert between(since=shanghai.isoformat()) == [third.seq, second.seq]


def test_a_malformed_time_is_a_validation_error(auditor_api):
    response = auditor_api.get(LIST, {"since": "yesterday"})
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert [k.split(".")[-1] for k in response.json()["details"]["fields"]] == ["since"]


# --- pagination -----------------------------------------------------------------------------------


def test_pagination_with_limit_and_offset(auditor_api, mixed):
    total = AuditEvent.objects.count()
    all_seqs = list(range(total, 0, -1))

    first = auditor_api.get(LIST, {"limit": 2}).json()
    second = auditor_api.get(LIST, {"limit": 2, "offset": 2}).json()
    last = auditor_api.get(LIST, {"limit": 2, "offset": total - 1}).json()
    beyond = auditor_api.get(LIST, {"limit": 2, "offset": total + 5}).json()

    assert [i["seq"] for i in first["items"]] == all_seqs[:2]
    assert [i["seq"] for i in second["items"]] == all_seqs[2:4]
    assert [i["seq"] for i in last["items"]] == [1]
    assert beyond["items"] == []
    assert first["count"] == second["count"] == last["count"] == beyond["count"] == total


def test_the_default_page_is_fifty_and_limits_are_clamped(cast, auditor_api):
    for i in range(210):
        record("audit.verify", params={"result": "ok", "checked": i})
    total = AuditEvent.objects.count()

    assert len(auditor_api.get(LIST).json()["items"]) == 50
    assert len(auditor_api.get(LIST, {"limit": 10_000}).json()["items"]) == 200
    assert len(auditor_api.get(LIST, {"limit": 0}).json()["items"]) == 1
    assert seqs(auditor_api.get(LIST, {"limit": 1, "offset": -5})) == [total]


# --- verify ---------------------------------------------------------------------------------------


def test_auditor_verifies_the_chain(cast, auditor_api):
    before = last_seq()

    response = auditor_api.post(
        VERIFY, headers={"X-Request-ID": "verify123", "User-Agent": "audit-bot/1"}
    )

    assert response.status_code == 200
    assert response.json() == {
        "ok": True,
        "checked": before,
        "first_broken_seq": None,
        "reason": "",
    }
    assert response["X-Request-ID"] == "verify123"
    assert actions_after(before) == ["audit.verify"]
    event = events_after(before)[0]
    assert event.actor_employee_id == cast.auditor.employee_id
    assert (event.channel, event.request_id, event.user_agent, event.client_ip) == (
        "api",
        "verify123",
        "audit-bot/1",
        "127.0.0.1",
    )
    assert event.params == {"result": "ok", "checked": before}
    # The next verification counts the event the previous one wrote.
    assert auditor_api.post(VERIFY).json()["checked"] == before + 1


def test_verify_reports_tampering(cast, auditor_api, unguarded):
    execute(f"UPDATE {TABLE} SET target_label = 'forged' WHERE seq = 2")

    body = auditor_api.post(VERIFY).json()

    assert body == {"ok": False, "checked": 1, "first_broken_seq": 2, "reason": "content"}
    assert AuditEvent.objects.order_by("-seq").first().params["result"] == "broken at #2"


def test_verify_must_be_a_post(auditor_api):
    assert auditor_api.get(VERIFY).status_code == 405
