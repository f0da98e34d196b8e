"""The benchmarks' data generator (bench/data.py) on each database: a small data set whose
audit chain verifies. It loads events around the audit triggers, so a change to those
(the PostgreSQL head moving at commit) must not leave it forking the chain."""

from __future__ import annotations

import pytest

from gonghao.audit.services import record, verify_chain
from gonghao.crm.models import Customer

SIZES = {
    "customers": 300,
    "interactions": 100,
    "opportunities": 50,
    "audit_events": 400,
    "employees": 12,
}


@pytest.mark.django_db(transaction=True)
def test_the_bench_generator_builds_data_whose_chain_verifies():
    from bench.data import build

    build(SIZES, log=lambda *_: None)

    assert Customer.objects.count() == SIZES["customers"]
    result = verify_chain()
    assert result.ok, result
    assert result.checked >= SIZES["audit_events"]
    # and the chain goes on from the loaded events
    record("audit.verify", params={"result": "ok", "checked": result.checked})
    assert verify_chain().ok
