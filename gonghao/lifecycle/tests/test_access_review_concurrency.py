"""Races: one item decided twice at once, and two schedulers closing the same campaign,
apply the change once (row locks on PostgreSQL, IMMEDIATE transactions on SQLite)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gonghao.access.models import RoleGrant
from gonghao.audit.models import AuditEvent
from gonghao.audit.services import verify_chain
from gonghao.core.errors import Conflict
from gonghao.lifecycle import reviews
from gonghao.lifecycle.access_models import AccessReviewItem, Decision
from gonghao.testing.crm import make_crm_cast
from gonghao.testing.threads import run_together

THREADS = 4


@pytest.mark.django_db(transaction=True)
def test_concurrent_decisions_on_one_item_apply_once():
    crm = make_crm_cast()
    campaign = reviews.start_campaign(
        actor=crm.security_admin, scope="department", department=crm.sales
    )
    item = AccessReviewItem.objects.get(campaign=campaign, employee=crm.rep_a)

    results, errors = run_together(
        lambda i: reviews.decide_item(
            item.pk, actor=crm.head, decision="revoke", comment=f"并发 {i}"
        ),
        THREADS,
    )
    assert len(results) == 1, errors
    assert all(isinstance(e, Conflict) and e.code == "item_already_decided" for e in errors)
    assert AuditEvent.objects.filter(action="role.revoke").count() == 1
    assert AuditEvent.objects.filter(action="access_review.decide").count() == 1
    assert not RoleGrant.objects.in_force().filter(employee=crm.rep_a).exists()
    assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_close_a_campaign_once():
    crm = make_crm_cast()
    campaign = reviews.start_campaign(
        actor=crm.security_admin,
        scope="department",
        department=crm.sales,
        due_date=reviews.local_today(),
    )
    later = campaign.closes_at + timedelta(minutes=1)
    results, errors = run_together(lambda i: reviews.close_due_campaigns(later), THREADS)
    assert not errors
    assert sorted(r["closed"] for r in results) == [0] * (THREADS - 1) + [1]
    assert AuditEvent.objects.filter(action="access_review.close").count() == 1
    assert AuditEvent.objects.filter(action="access_review.decide").count() == 3
    assert not AccessReviewItem.objects.filter(decision=Decision.PENDING).exists()
    assert verify_chain().ok
