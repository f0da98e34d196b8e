"""A chain's head follows the events written in one transaction, however many, and survives
rolled-back savepoints; on PostgreSQL the head row moves once per transaction, at commit."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from gonghao.audit.models import AuditChainHead, AuditEvent
from gonghao.audit.registry import AUDIT_VERIFIED
from gonghao.audit.services import record, record_many, verify_chain
from gonghao.testing.audit import assert_log_intact

from .util import head

postgresql_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="the head moves at commit on PostgreSQL only"
)


class Boom(Exception):
    pass


def write(count: int, label: str = "x") -> list[AuditEvent]:
    return [record(AUDIT_VERIFIED, params={"result": label, "checked": n}) for n in range(count)]


def head_row_updates() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_stat_get_xact_tuples_updated(%s::regclass)",
            [AuditChainHead._meta.db_table],
        )
        return cursor.fetchone()[0]


def fire_deferred_triggers() -> None:
    """What a commit does first (and Django's TestCase at each test's end)."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


@pytest.mark.django_db(transaction=True)
def test_many_events_in_one_transaction_leave_the_head_on_the_last():
    with transaction.atomic():
        events = write(300)
        # Within the transaction, its own events are the chain's tip.
        assert head() == (events[-1].seq, events[-1].hash)
        assert verify_chain().ok

    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    row = AuditChainHead.objects.get(pk=events[-1].chain)
    assert (row.last_seq, row.last_hash) == (events[-1].seq, events[-1].hash)
    assert_log_intact(300)


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_savepoint_takes_its_events_off_the_tip():
    with transaction.atomic():
        [kept] = write(1, "kept")
        with pytest.raises(Boom), transaction.atomic():
            lost = write(3, "lost")
            assert head() == (lost[-1].seq, lost[-1].hash)
            raise Boom
        assert head() == (kept.seq, kept.hash)
        [after] = write(1, "after")
        assert after.prev_hash == kept.hash

    assert not AuditEvent.objects.filter(params__result="lost").exists()
    row = AuditChainHead.objects.get(pk=after.chain)
    assert (row.last_seq, row.last_hash) == (after.seq, after.hash)
    assert_log_intact(2)


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_leaves_the_head_as_it_was():
    [first] = write(1)
    with pytest.raises(Boom), transaction.atomic():
        write(5, "lost")
        raise Boom

    assert head() == (first.seq, first.hash)
    [second] = write(1)
    assert second.prev_hash == first.hash
    assert_log_intact(2)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_the_head_row_gets_one_update_per_transaction():
    write(1)  # the connection has a chain of its own now
    with transaction.atomic():
        # (a counter of the backend's updates not yet reported, not of this transaction's)
        before = head_row_updates()
        events = write(50)
        assert head_row_updates() == before
        fire_deferred_triggers()
        assert head_row_updates() == before + 1
        row = AuditChainHead.objects.get(pk=events[-1].chain)
        assert (row.last_seq, row.last_hash) == (events[-1].seq, events[-1].hash)
    assert_log_intact(51)


def many(count: int, label: str = "batch") -> list[dict]:
    return [
        {
            "action": AUDIT_VERIFIED,
            "target_type": "crm.customer",
            "target_id": n,
            "target_label": f"客户{n}",
            "params": {"result": label, "checked": n},
        }
        for n in range(count)
    ]


@pytest.mark.django_db(transaction=True)
def test_record_many_writes_the_events_record_would_linked_in_order():
    with transaction.atomic():
        [before] = write(1, "before")
        with CaptureQueriesContext(connection) as captured:
            assert record_many(many(130)) == 130
        [after] = write(1, "after")

    rows = list(AuditEvent.objects.filter(params__result="batch").order_by("seq"))
    assert [(r.target_id, r.target_label, r.params["checked"]) for r in rows] == [
        (str(n), f"客户{n}", n) for n in range(130)
    ]
    assert rows[0].prev_hash == before.hash and after.prev_hash == rows[-1].hash
    assert {r.action for r in rows} == {AUDIT_VERIFIED} and {r.chain for r in rows} == {
        before.chain
    }
    # one statement run over all the rows, not a round trip per event
    assert len(captured.captured_queries) <= 3
    row = AuditChainHead.objects.get(pk=after.chain)
    assert (row.last_seq, row.last_hash) == (after.seq, after.hash)
    assert_log_intact(132)


@pytest.mark.django_db(transaction=True)
def test_record_many_writes_nothing_when_an_entry_is_wrong_or_the_transaction_fails():
    [first] = write(1)
    with pytest.raises(ValueError, match="unregistered"):
        record_many([*many(2), {"action": "no.such.action"}])
    with pytest.raises(Boom), transaction.atomic():
        record_many(many(40, "lost"))
        raise Boom
    assert record_many([]) == 0

    assert head() == (first.seq, first.hash)
    assert not AuditEvent.objects.filter(params__result__in=["batch", "lost"]).exists()
    assert_log_intact(1)
