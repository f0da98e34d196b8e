"""Audited customer writes from many connections at once: one unforked chain, one event each."""

from __future__ import annotations

import pytest

from gonghao.audit.models import AuditEvent
from gonghao.crm.models import Customer
from gonghao.crm.services import create_customer, update_customer
from gonghao.testing.audit import assert_log_intact
from gonghao.testing.crm import make_crm_cast
from gonghao.testing.threads import run_together

THREADS = 10
PER_THREAD = 10


@pytest.mark.django_db(transaction=True)
def test_concurrent_customer_writes_keep_one_chain():
    crm = make_crm_cast()
    before = AuditEvent.objects.count()

    def write(index: int) -> list[int]:
        created = []
        for n in range(PER_THREAD):
            customer = create_customer(actor=crm.head, data={"name": f"并发客户{index}-{n}"})
            update_customer(customer.pk, actor=crm.head, data={"industry": f"行业{n}"})
            created.append(customer.pk)
        return created

    results, errors = run_together(write, THREADS)

    assert errors == []
    created = sorted(pk for batch in results for pk in batch)
    assert len(created) == THREADS * PER_THREAD
    assert Customer.objects.filter(name__startswith="并发客户").count() == len(created)
    for action in ("customer.create", "customer.update"):
        targets = AuditEvent.objects.filter(action=action).values_list("target_id", flat=True)
        assert sorted(int(t) for t in targets) == created, action
    assert_log_intact(before + 2 * len(created))
