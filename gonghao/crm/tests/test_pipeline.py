"""The pipeline: stage moves and their history and audit, closing and reopening, stage config."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gonghao.audit.models import AuditEvent
from gonghao.crm import opportunities as opps_service
from gonghao.crm.models import Opportunity, Stage, StageChange
from gonghao.testing.kit import MovableClock, api_for

from .opportunity_kit import make_opportunity, make_opps, pipeline_events

pytestmark = pytest.mark.django_db


@pytest.fixture
def opps(crm):
    return make_opps(crm)


@pytest.fixture
def moving_clock(monkeypatch):
    clock = MovableClock(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
    monkeypatch.setattr("gonghao.core.clock.now", clock)
    return clock


def test_a_life_through_the_pipeline(crm, moving_clock):
    api = api_for(crm.rep_a)
    created = api.post(
        "/api/v1/opportunities", {"customer_id": crm.customer_a.pk, "name": "全流程"}
    ).json()
    path = f"/api/v1/opportunities/{created['id']}"

    def move(stage, **extra):
        moving_clock.advance(hours=1)
        response = api.post(f"{path}/stage", {"stage": stage, **extra})
        assert response.status_code == 200, response.content
        return response.json()

    body = move("needs")
    assert (body["stage"]["code"], body["probability"], body["closed_at"]) == ("needs", 25, None)
    body = move("proposal", probability=40)  # explicitly set: not the stage's 50
    assert body["probability"] == 40
    body = move("won")
    assert body["probability"] == 100
    won_at = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    assert Opportunity.objects.get(pk=created["id"]).closed_at == won_at
    body = move("negotiation")  # reopened
    assert body["closed_at"] is None and body["probability"] == 75
    body = move("lost")
    assert body["probability"] == 0
    assert Opportunity.objects.get(pk=created["id"]).closed_at == moving_clock.current

    history = api.get(f"{path}/history").json()
    assert history["count"] == 6
    steps = [
        ((item["from_stage"] or {}).get("code"), item["to_stage"]["code"])
        for item in history["items"]
    ]
    assert steps == [
        (None, "initial"),
        ("initial", "needs"),
        ("needs", "proposal"),
        ("proposal", "won"),
        ("won", "negotiation"),
        ("negotiation", "lost"),
    ]
    assert {item["changed_by"]["employee_id"] for item in history["items"]} == {
        crm.rep_a.employee_id
    }
    assert pipeline_events() == ["opportunity.create"] + ["opportunity.stage"] * 5


def test_a_move_writes_history_and_one_audit_event_with_its_summary(crm, opps):
    response = api_for(crm.rep_a).post(
        f"/api/v1/opportunities/{opps.a.pk}/stage", {"stage": "proposal"}
    )
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="opportunity.stage")
    assert event.actor_employee_id == crm.rep_a.employee_id
    assert event.target_id == str(opps.a.pk)
    assert event.params == {"from": "initial", "to": "proposal"}
    assert event.changes == {"stage": ["initial", "proposal"], "probability": [10, 50]}
    from django.utils import translation

    with translation.override("en"):
        assert event.summary == f"Moved opportunity {opps.a.name} from initial to proposal"
    change = StageChange.objects.filter(opportunity=opps.a).last()
    assert (change.from_stage.code, change.to_stage.code) == ("initial", "proposal")


def test_moving_to_the_same_stage_changes_and_writes_nothing(crm, opps):
    before = Opportunity.objects.get(pk=opps.a.pk)
    response = api_for(crm.rep_a).post(
        f"/api/v1/opportunities/{opps.a.pk}/stage", {"stage": "initial", "probability": 99}
    )
    assert response.status_code == 200
    after = Opportunity.objects.get(pk=opps.a.pk)
    assert after.updated_at == before.updated_at and after.probability == 10
    assert StageChange.objects.filter(opportunity=opps.a).count() == 1
    assert pipeline_events() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"stage": "nowhere"}, "stage"),
        ({"stage": "needs", "probability": 101}, "probability"),
        ({"stage": ""}, "stage"),
        ({}, "stage"),
    ],
)
def test_bad_moves_are_422_and_write_nothing(crm, opps, body, field):
    response = api_for(crm.rep_a).post(f"/api/v1/opportunities/{opps.a.pk}/stage", body)
    assert response.status_code == 422
    assert field in response.json()["details"]["fields"]
    assert Opportunity.objects.get(pk=opps.a.pk).stage.code == "initial"
    assert StageChange.objects.filter(opportunity=opps.a).count() == 1
    assert pipeline_events() == []


def test_moving_into_an_inactive_stage_is_refused(crm, opps):
    Stage.objects.filter(code="proposal").update(is_active=False)
    response = api_for(crm.rep_a).post(
        f"/api/v1/opportunities/{opps.a.pk}/stage", {"stage": "proposal"}
    )
    assert response.status_code == 422
    assert Opportunity.objects.get(pk=opps.a.pk).stage.code == "initial"


def test_history_is_scoped(crm, opps):
    assert api_for(crm.rep_a).get(f"/api/v1/opportunities/{opps.b.pk}/history").status_code == 404
    assert api_for(crm.head).get(f"/api/v1/opportunities/{opps.b.pk}/history").status_code == 200
    assert api_for(crm.agent).get(f"/api/v1/opportunities/{opps.b.pk}/history").status_code == 403


def test_the_service_checks_permission_itself(crm, opps):
    from gonghao.core.errors import NotFound, PermissionDenied

    with pytest.raises(PermissionDenied):
        opps_service.move_opportunity(opps.a.pk, actor=crm.agent, stage_code="needs")
    with pytest.raises(NotFound):
        opps_service.move_opportunity(opps.c.pk, actor=crm.rep_a, stage_code="needs")
    with pytest.raises(PermissionDenied):
        opps_service.delete_opportunity(opps.a.pk, actor=crm.rep_a)
    with pytest.raises(PermissionDenied):
        opps_service.create_stage(
            actor=crm.head, data={"code": "x", "name_zh": "x", "name_en": "x"}
        )
    assert pipeline_events() == []


# --- stage configuration -----------------------------------------------------------------------


def test_stage_list_is_ordered_and_includes_inactive(crm):
    Stage.objects.filter(code="needs").update(is_active=False)
    body = api_for(crm.rep_a).get("/api/v1/pipeline/stages").json()
    assert [s["code"] for s in body["items"]] == [
        "initial",
        "needs",
        "proposal",
        "negotiation",
        "won",
        "lost",
    ]
    assert body["count"] == 6
    needs = next(s for s in body["items"] if s["code"] == "needs")
    assert needs["is_active"] is False and needs["name_zh"] == "需求确认"


def test_admin_configures_stages(crm):
    api = api_for(crm.admin)
    created = api.post(
        "/api/v1/pipeline/stages",
        {"code": "pilot", "name_zh": "试点", "name_en": "Pilot", "position": 35, "probability": 60},
    )
    assert created.status_code == 201, created.content
    stage = Stage.objects.get(code="pilot")
    assert (stage.position, stage.probability, stage.is_active) == (35, 60, True)
    duplicate = api.post(
        "/api/v1/pipeline/stages", {"code": "pilot", "name_zh": "重复", "name_en": "Dup"}
    )
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "stage_code_taken"
    renamed = api.patch(f"/api/v1/pipeline/stages/{stage.pk}", {"code": "won"})
    assert renamed.status_code == 409
    both = api.patch(f"/api/v1/pipeline/stages/{stage.pk}", {"is_won": True, "is_lost": True})
    assert both.status_code == 422
    bad = api.post(
        "/api/v1/pipeline/stages", {"code": "Bad Code", "name_zh": "坏", "name_en": "Bad"}
    )
    assert bad.status_code == 422 and "code" in bad.json()["details"]["fields"]
    changed = api.patch(f"/api/v1/pipeline/stages/{stage.pk}", {"probability": 65})
    assert changed.status_code == 200 and changed.json()["probability"] == 65
    # Nothing changes: nothing written.
    assert api.patch(f"/api/v1/pipeline/stages/{stage.pk}", {"probability": 65}).status_code == 200
    assert api.patch("/api/v1/pipeline/stages/987654", {"probability": 1}).status_code == 404
    assert pipeline_events() == ["stage.create", "stage.update"]
    event = AuditEvent.objects.get(action="stage.update")
    assert event.changes == {"probability": [60, 65]} and event.target_label == "pilot"
    # A second won stage is allowed (exactly one won / one lost is not required).
    second_won = api.post(
        "/api/v1/pipeline/stages",
        {"code": "won-partial", "name_zh": "部分赢单", "name_en": "Partly won", "is_won": True},
    )
    assert second_won.status_code == 201


def test_a_stage_in_use_cannot_be_switched_off(crm, opps):
    api = api_for(crm.admin)
    initial = Stage.objects.get(code="initial")
    refused = api.patch(f"/api/v1/pipeline/stages/{initial.pk}", {"is_active": False})
    assert refused.status_code == 409 and refused.json()["code"] == "stage_in_use"
    assert Stage.objects.get(pk=initial.pk).is_active
    assert pipeline_events() == []
    # Closed (won / lost) stages can be switched off even with opportunities in them.
    make_opportunity(crm.customer_a, crm.rep_a, "已赢", "10", stage="won")
    won = Stage.objects.get(code="won")
    assert api.patch(f"/api/v1/pipeline/stages/{won.pk}", {"is_active": False}).status_code == 200
    # Once the open ones have moved on, the stage can go; deleted ones do not count.
    for opportunity in (opps.a, opps.b):
        response = api_for(crm.head).post(
            f"/api/v1/opportunities/{opportunity.pk}/stage", {"stage": "needs"}
        )
        assert response.status_code == 200
    Opportunity.objects.filter(pk=opps.c.pk).update(deleted_at=opps.c.created_at)
    off = api.patch(f"/api/v1/pipeline/stages/{initial.pk}", {"is_active": False})
    assert off.status_code == 200 and off.json()["is_active"] is False
    # New opportunities then start in the first active open stage.
    created = api_for(crm.rep_a).post(
        "/api/v1/opportunities", {"customer_id": crm.customer_a.pk, "name": "新的"}
    )
    assert created.json()["stage"]["code"] == "needs"
