"""Offboarding a reviewer hands their undecided access-review items on, never to the
employee under review, and lists each in the handover report."""

from __future__ import annotations

import pytest

from gonghao.audit.models import AuditEvent
from gonghao.lifecycle.access_models import AccessReviewItem, Decision
from gonghao.lifecycle.models import HandoverItem
from gonghao.lifecycle.offboarding import offboard_employee, preview
from gonghao.testing.crm import make_crm_cast
from gonghao.testing.kit import api_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def crm(db):
    return make_crm_cast()


def start_sales_review(crm) -> int:
    response = api_for(crm.security_admin).post(
        "/api/v1/access-reviews", {"scope": "department", "department_id": crm.sales.pk}
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def test_a_leaving_reviewer_hands_items_to_the_successor_or_up_the_chain(crm):
    campaign = start_sales_review(crm)
    # rep_a manages rep_b, so rep_a reviews rep_b's sales grant.
    item = AccessReviewItem.objects.get(campaign_id=campaign, employee=crm.rep_b)
    assert item.reviewer == crm.rep_a

    planned = {
        move.record_id: move.to
        for step in preview(crm.rep_a, actor=crm.admin, successor=crm.rep_b)
        for move in step.moves
        if move.kind == "access_review_item"
    }
    # The successor is the employee under review: the chain picks the department head.
    assert planned == {item.pk: crm.head}

    offboard_employee(crm.rep_a, actor=crm.admin, successor=crm.rep_b)

    item.refresh_from_db()
    assert item.reviewer == crm.head
    assert item.decision == Decision.PENDING
    line = HandoverItem.objects.get(kind="access_review_item", record_id=str(item.pk))
    assert line.to_employee_id == crm.head.employee_id
    assert AuditEvent.objects.filter(
        action="handover.move", target_type="lifecycle.accessreviewitem", target_id=str(item.pk)
    ).exists()


def test_the_successor_takes_items_about_other_people(crm):
    campaign = start_sales_review(crm)
    item = AccessReviewItem.objects.get(campaign_id=campaign, employee=crm.rep_b)
    offboard_employee(crm.rep_a, actor=crm.admin, successor=crm.rep_c)
    item.refresh_from_db()
    assert item.reviewer == crm.rep_c
