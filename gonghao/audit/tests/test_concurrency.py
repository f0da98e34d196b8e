"""Concurrent writers, each on its own connection, never fork the chain."""

from __future__ import annotations

import pytest
from django.db import transaction

from gonghao.audit.chain import GENESIS_HASH
from gonghao.audit.models import AuditChainHead, AuditEvent
from gonghao.audit.registry import AUDIT_VERIFIED
from gonghao.audit.services import record, verify_chain
from gonghao.testing.threads import run_together

from .util import record_some

THREADS = 8
PER_THREAD = 10


def write_concurrently(worker) -> list[BaseException]:
    """Run `worker(index)` in THREADS threads started together; the errors they raised."""
    return run_together(worker, THREADS)[1]


def assert_one_chain(expected: int) -> list[dict]:
    rows = list(AuditEvent.objects.order_by("seq").values("seq", "prev_hash", "hash", "params"))
    assert [r["seq"] for r in rows] == list(range(1, expected + 1))
    previous = GENESIS_HASH
    for row in rows:
        assert row["prev_hash"] == previous, f"fork at #{row['seq']}"
        previous = row["hash"]
    assert len({r["hash"] for r in rows}) == expected
    head = AuditChainHead.objects.get(pk=1)
    assert (head.last_seq, head.last_hash) == (expected, previous)
    result = verify_chain()
    assert result.ok, result
    assert result.checked == expected
    return rows


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain():
    # An empty log and no head row yet: the writers also race to create the head.
    assert not AuditEvent.objects.exists()
    assert not AuditChainHead.objects.exists()

    def worker(index: int) -> None:
        for n in range(PER_THREAD):
            with transaction.atomic():
                record(AUDIT_VERIFIED, params={"result": f"t{index}", "checked": n})

    errors = write_concurrently(worker)

    assert errors == []
    rows = assert_one_chain(THREADS * PER_THREAD)
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
    rows = assert_one_chain(3 + THREADS * PER_THREAD // 2)
    assert all(r["params"]["checked"] % 2 == 0 for r in rows[3:])
