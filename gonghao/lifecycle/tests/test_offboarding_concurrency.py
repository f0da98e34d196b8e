"""Simultaneous offboardings of one employee, and overlapping scheduler runs, offboard once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from gonghao.accounts.models import Employee
from gonghao.audit.models import AuditEvent
from gonghao.audit.services import verify_chain
from gonghao.core.errors import Conflict
from gonghao.lifecycle import offboarding
from gonghao.lifecycle.models import HandoverItem, Offboarding
from gonghao.testing.crm import make_crm_cast
from gonghao.testing.kit import make_employee
from gonghao.testing.threads import run_together

THREADS = 5


@pytest.mark.django_db(transaction=True)
def test_concurrent_offboardings_offboard_once():
    cast = make_crm_cast()
    admins = [make_employee(f"管理{i}", roles=("system_admin",)) for i in range(THREADS)]
    queue = list(admins)
    pick = threading.Lock()

    def offboard(_index):
        with pick:
            admin = queue.pop()
        target = Employee.objects.get(pk=cast.rep_a.pk)
        return offboarding.offboard_employee(target, actor=admin, successor=cast.rep_c)

    results, errors = run_together(offboard, THREADS)
    assert len(results) == 1, errors
    assert all(isinstance(e, Conflict) and e.code == "already_departed" for e in errors), errors
    assert Offboarding.objects.count() == 1
    assert AuditEvent.objects.filter(action="employee.offboard").count() == 1
    assert HandoverItem.objects.filter(kind="customer").count() == 1
    assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_overlapping_due_runs_perform_once():
    cast = make_crm_cast()
    tomorrow = timezone.localdate() + timedelta(days=1)
    offboarding.offboard_employee(
        cast.rep_a, actor=cast.admin, successor=cast.rep_c, effective=tomorrow
    )
    later = timezone.now() + timedelta(days=1)
    results, errors = run_together(lambda _i: offboarding.perform_due(later), 3)
    assert not errors, errors
    assert sum(r["offboarded"] for r in results) == 1
    assert AuditEvent.objects.filter(action="employee.offboard").count() == 1
    assert verify_chain().ok
