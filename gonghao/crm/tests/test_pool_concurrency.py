"""Claims at the same moment: one customer goes to exactly one employee, and one employee's
simultaneous claims never pass their cap (file SQLite and PostgreSQL, real threads)."""

from __future__ import annotations

import pytest

from gonghao.accounts.models import Employee
from gonghao.audit.models import AuditEvent
from gonghao.audit.services import verify_chain
from gonghao.core.errors import Conflict
from gonghao.crm import pool
from gonghao.crm.models import Customer
from gonghao.testing.crm import make_crm_cast
from gonghao.testing.kit import make_employee
from gonghao.testing.threads import run_together

THREADS = 6


@pytest.mark.django_db(transaction=True)
def test_two_claims_of_one_customer_one_wins():
    crm = make_crm_cast()
    claimers = [crm.rep_a.pk] + [
        make_employee(f"抢客{i}", roles=("sales",), department=crm.sales).pk
        for i in range(THREADS - 1)
    ]
    contested = Customer.objects.create(name="抢手客户")

    def claim(index: int):
        actor = Employee.objects.get(pk=claimers[index])
        return pool.claim_customer(contested.pk, actor=actor).owner_id

    results, errors = run_together(claim, THREADS)
    assert len(results) == 1, errors
    assert len(errors) == THREADS - 1
    assert all(isinstance(e, Conflict) and e.code == "already_claimed" for e in errors), errors
    contested.refresh_from_db()
    assert contested.owner_id == results[0]
    assert AuditEvent.objects.filter(action="customer.pool_claim").count() == 1
    assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_one_employees_simultaneous_claims_stay_within_the_cap(settings):
    settings.GONGHAO_POOL_CLAIM_CAP = 2
    crm = make_crm_cast()
    wanted = [Customer.objects.create(name=f"池客户{i}").pk for i in range(THREADS)]

    def claim(index: int):
        actor = Employee.objects.get(pk=crm.rep_a.pk)
        return pool.claim_customer(wanted[index], actor=actor).pk

    results, errors = run_together(claim, THREADS)
    assert len(results) == 2, errors
    assert all(isinstance(e, Conflict) and e.code == "claim_cap_reached" for e in errors), errors
    assert Customer.objects.filter(owner=crm.rep_a, claimed_at__isnull=False).count() == 2
    assert AuditEvent.objects.filter(action="customer.pool_claim").count() == 2
    assert verify_chain().ok
