"""An event is written in the same transaction as the change it describes."""

from __future__ import annotations

import pytest
from django.db import transaction

from gonghao.audit.models import AuditChainHead, AuditEvent
from gonghao.audit.registry import AUDIT_VERIFIED
from gonghao.audit.services import record, seq_is_gapless, verify_chain
from gonghao.org.models import Department
from gonghao.org.services import create_department
from gonghao.testing.kit import make_cast

from .util import actions_after, events_after, head, last_seq


class Boom(Exception):
    pass


@pytest.mark.django_db
def test_a_rolled_back_block_leaves_no_event_and_keeps_the_head(cast):
    before_seq, before_hash = head()

    with pytest.raises(Boom), transaction.atomic():
        record(AUDIT_VERIFIED, actor=cast.auditor, params={"result": "lost", "checked": 0})
        record(AUDIT_VERIFIED, actor=cast.auditor, params={"result": "lost", "checked": 1})
        assert last_seq() == before_seq + 2
        raise Boom

    assert last_seq() == before_seq
    assert head() == (before_seq, before_hash)
    assert not AuditEvent.objects.filter(params__result="lost").exists()
    # The chain goes on from where it was: no fork (and no gap where numbering has none).
    event = record(AUDIT_VERIFIED)
    assert event.prev_hash == before_hash
    assert event.seq == before_seq + 1 if seq_is_gapless() else event.seq > before_seq
    assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_committed_and_rolled_back_transactions():
    cast = make_cast()
    before_seq, before_hash = head()

    with pytest.raises(Boom), transaction.atomic():
        create_department(actor=cast.admin, code="GONE", name="Rolled back")
        assert actions_after(before_seq) == ["department.create"]
        raise Boom

    assert not Department.objects.filter(code="GONE").exists()
    assert actions_after(before_seq) == []
    assert head() == (before_seq, before_hash)

    department = create_department(actor=cast.admin, code="KEPT", name="Committed")

    assert actions_after(before_seq) == ["department.create"]
    [event] = events_after(before_seq)
    assert (event.actor_employee_id, event.target_type, event.target_id) == (
        cast.admin.employee_id,
        "org.department",
        str(department.pk),
    )
    assert event.prev_hash == before_hash
    assert AuditChainHead.objects.get(pk=event.chain).last_seq == event.seq
    assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_a_change_whose_event_cannot_be_written_is_not_committed(monkeypatch):
    cast = make_cast()
    before_seq, before_hash = head()

    def broken_hash(*args, **kwargs):
        raise Boom("the audit write failed")

    monkeypatch.setattr("gonghao.audit.services.compute_hash", broken_hash)
    with pytest.raises(Boom):
        create_department(actor=cast.admin, code="NOAUDIT", name="Never audited")

    assert not Department.objects.filter(code="NOAUDIT").exists()
    assert head() == (before_seq, before_hash)
    assert last_seq() == before_seq


@pytest.mark.django_db(transaction=True)
def test_every_committed_department_has_its_event():
    cast = make_cast()
    for code in ("A1", "A2", "A3"):
        create_department(actor=cast.admin, code=code, name=f"Dept {code}")
    departments = Department.objects.filter(code__in=["A1", "A2", "A3"])
    for department in departments:
        assert (
            AuditEvent.objects.filter(
                action="department.create", target_id=str(department.pk)
            ).count()
            == 1
        )
