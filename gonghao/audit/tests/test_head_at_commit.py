"""A chain's head follows the events written in one transaction, however many, and survives
rolled-back savepoints; on PostgreSQL the head row moves once per transaction, at commit."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from gonghao.audit.models import AuditChainHead, AuditEvent
from gonghao.audit.registry import AUDIT_VERIFIED
from gonghao.audit.services import record, verify_chain
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
