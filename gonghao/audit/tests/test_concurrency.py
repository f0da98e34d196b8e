"""Concurrent writers, each on its own connection, never fork a chain."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connection, transaction

from gonghao.audit.models import AuditChainHead, AuditEvent
from gonghao.audit.registry import AUDIT_VERIFIED
from gonghao.audit.services import record, verify_chain
from gonghao.testing.audit import assert_log_intact
from gonghao.testing.threads import run_together, start_in_own_connection

from .util import record_some

THREADS = 8
PER_THREAD = 10


def write_concurrently(worker) -> list[BaseException]:
    """Run `worker(index)` in THREADS threads started together; the errors they raised."""
    return run_together(worker, THREADS)[1]


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain():
    # An empty log and no head row yet: the writers also race to create the heads.
    assert not AuditEvent.objects.exists()
    AuditChainHead.objects.all().delete()

    def worker(index: int) -> None:
        for n in range(PER_THREAD):
            with transaction.atomic():
                record(AUDIT_VERIFIED, params={"result": f"t{index}", "checked": n})

    errors = write_concurrently(worker)

    assert errors == []
    rows = assert_log_intact(THREADS * PER_THREAD)
    # Every write of every thread is there exactly once.
    written = sorted((r["params"]["result"], r["params"]["checked"]) for r in rows)
    assert written == sorted((f"t{i}", n) for i in range(THREADS) for n in range(PER_THREAD))


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_with_rollbacks_leave_no_gaps():
    record_some(3)

    def worker(index: int) -> None:
        for n in range(PER_THREAD):
            try:
                with transaction.atomic():
                    record(AUDIT_VERIFIED, params={"result": f"t{index}", "checked": n})
                    if n % 2:
                        raise LookupError("rolled back")
            except LookupError:
                pass

    errors = write_concurrently(worker)

    assert errors == []
    rows = assert_log_intact(3 + THREADS * PER_THREAD // 2)
    assert all(r["params"]["checked"] % 2 == 0 for r in rows[3:])


postgresql_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="several chains are a PostgreSQL feature"
)


def hold_a_chain_open(holding: threading.Event, release: threading.Event, seen: dict) -> None:
    """In its own connection: append one event, then keep the transaction (and its chain) open."""
    try:
        with transaction.atomic():
            event = record(AUDIT_VERIFIED, params={"result": "holder", "checked": 0})
            seen["holder"] = event
            holding.set()
            release.wait(timeout=30)
    finally:
        connection.close()


@contextmanager
def a_chain_held_open() -> Iterator[dict]:
    """Another connection appends one event (`seen["holder"]`) and keeps its transaction, and
    so its chain, open until the block ends."""
    holding, release, seen = threading.Event(), threading.Event(), {}
    holder = threading.Thread(target=hold_a_chain_open, args=(holding, release, seen))
    holder.start()
    try:
        assert holding.wait(timeout=30)
        yield seen
    finally:
        release.set()
        holder.join(timeout=30)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_busy_chain_is_skipped_not_waited_for():
    with a_chain_held_open() as seen:
        # The holder's chain is locked; this writer takes another one at once.
        with transaction.atomic():
            first = record(AUDIT_VERIFIED, params={"result": "other", "checked": 1})
            second = record(AUDIT_VERIFIED, params={"result": "other", "checked": 2})
    assert first.chain != seen["holder"].chain
    # One transaction keeps to the chain it locked first.
    assert second.chain == first.chain and second.prev_hash == first.hash
    assert_log_intact(3)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_connection_keeps_to_its_chain_after_the_busy_one_is_free():
    with a_chain_held_open() as seen, transaction.atomic():
        moved = record(AUDIT_VERIFIED, params={"result": "moved", "checked": 1})
    assert moved.chain != seen["holder"].chain
    # The holder's chain is free again, but this connection's own head is tried first.
    with transaction.atomic():
        stayed = record(AUDIT_VERIFIED, params={"result": "stayed", "checked": 2})
    assert stayed.chain == moved.chain and stayed.prev_hash == moved.hash
    assert_log_intact(3)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_with_every_chain_busy_a_writer_queues_and_numbers_after_the_holder(settings):
    settings.GONGHAO_AUDIT_CHAINS = 1

    with a_chain_held_open() as seen:

        def writer() -> None:
            seen["waiter"] = record(AUDIT_VERIFIED, params={"result": "waiter", "checked": 1})

        waiter = start_in_own_connection(writer)
        waiter.join(timeout=1)
        assert waiter.is_alive(), "the only chain is locked: the writer must wait"
    waiter.join(timeout=30)
    holder_event, waiter_event = seen["holder"], seen["waiter"]
    assert waiter_event.chain == holder_event.chain == 1
    # Its number was drawn once the lock was held, so it follows the holder's.
    assert waiter_event.seq > holder_event.seq
    assert waiter_event.prev_hash == holder_event.hash
    assert_log_intact(2)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_spread_over_several_chains():
    def worker(index: int) -> None:
        for n in range(PER_THREAD):
            with transaction.atomic():
                record(AUDIT_VERIFIED, params={"result": f"t{index}", "checked": n})

    assert write_concurrently(worker) == []
    rows = assert_log_intact(THREADS * PER_THREAD)
    assert len({r["chain"] for r in rows}) > 1


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_rolled_back_numbers_leave_gaps_that_verify_accepts():
    record_some(2)
    with pytest.raises(LookupError), transaction.atomic():
        record(AUDIT_VERIFIED, params={"result": "lost", "checked": 0})
        raise LookupError
    record_some(1)

    # The rolled-back event's number is lost, and with it the number its insert drew for the
    # connection's next event: the next event, linked afresh, draws a new one.
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == [1, 2, 5]
    assert verify_chain().ok


# --- the connection's reservation: one statement per event while its chain is as it left it ---


def append_in_another_connection(chain: int, seen: dict, release: threading.Event | None = None):
    """In its own connection, trying `chain` first: append one event; with `release`, keep
    the transaction (and the chain) open until it is set."""
    connection.gonghao_audit_chain = chain
    try:
        with transaction.atomic():
            seen["other"] = record(AUDIT_VERIFIED, params={"result": "other", "checked": 0})
            if release is not None:
                seen["holding"].set()
                release.wait(timeout=30)
    finally:
        connection.close()


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_connection_appends_to_its_own_chain_in_one_statement():
    from django.test.utils import CaptureQueriesContext

    first = record_some(1)[0]
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        second = record(AUDIT_VERIFIED, params={"result": "next", "checked": 1})
        third = record(AUDIT_VERIFIED, params={"result": "next", "checked": 2})
    inserts = [q["sql"] for q in captured.captured_queries if "audit_auditevent" in q["sql"]]
    assert len(inserts) == 2 and all("FOR UPDATE SKIP LOCKED" in sql for sql in inserts)
    assert [e.seq for e in (first, second, third)] == [1, 2, 3]
    assert second.prev_hash == first.hash and third.prev_hash == second.hash
    assert_log_intact(3)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_chain_appended_to_by_another_connection_is_linked_afresh():
    mine = record_some(1)[0]
    seen: dict = {}
    other = threading.Thread(target=append_in_another_connection, args=(mine.chain, seen))
    other.start()
    other.join(timeout=30)
    assert seen["other"].chain == mine.chain and seen["other"].prev_hash == mine.hash

    after = record(AUDIT_VERIFIED, params={"result": "after", "checked": 1})

    assert after.chain == mine.chain
    assert after.prev_hash == seen["other"].hash  # not the hash this connection expected
    assert after.seq > seen["other"].seq
    assert_log_intact(3)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_reserved_chain_held_by_another_writer_is_skipped_not_waited_for():
    mine = record_some(1)[0]
    release, seen = threading.Event(), {"holding": threading.Event()}
    holder = threading.Thread(target=append_in_another_connection, args=(mine.chain, seen, release))
    holder.start()
    try:
        assert seen["holding"].wait(timeout=30)
        assert seen["other"].chain == mine.chain  # the chain this connection expects to use
        with transaction.atomic():
            moved = record(AUDIT_VERIFIED, params={"result": "moved", "checked": 1})
    finally:
        release.set()
        holder.join(timeout=30)
    assert moved.chain != mine.chain
    assert_log_intact(3)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_an_over_long_value_is_refused_not_cut_in_the_one_statement_append():
    from django.db import DataError

    record_some(1)
    with pytest.raises(DataError), transaction.atomic():
        record(AUDIT_VERIFIED, target_type="x" * 65, params={"result": "long", "checked": 1})
    assert_log_intact(1)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_displaced_writer_takes_the_least_recently_used_free_chain():
    """Not the lowest free one, which is another writer's idle chain: that writer would then
    displace the next, and so on."""
    connection.gonghao_audit_chain = 2
    busy_before = record_some(1)[0]  # chain 2 has been used, later chains not
    assert busy_before.chain == 2
    release, seen = threading.Event(), {"holding": threading.Event()}
    holder = threading.Thread(target=append_in_another_connection, args=(1, seen, release))
    holder.start()
    try:
        assert seen["holding"].wait(timeout=30)
        del connection.gonghao_audit_reservation  # (on the connection behind the proxy)
        connection.gonghao_audit_chain = 1  # its own chain is the one held
        with transaction.atomic():
            moved = record(AUDIT_VERIFIED, params={"result": "moved", "checked": 1})
    finally:
        release.set()
        holder.join(timeout=30)
    assert seen["other"].chain == 1
    assert moved.chain not in (1, 2)
    assert_log_intact(3)
