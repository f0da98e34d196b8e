"""A small, known company for the dashboard tests: every figure below is counted by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from gonghao.crm.models import Customer, Interaction
from gonghao.crm.tests.opportunity_kit import make_opportunity
from gonghao.testing.crm import CrmCast, make_crm_cast, make_customer

# A Wednesday; this week's Monday is 2026-03-16 and the first of the 12 weeks 2025-12-29.
NOW = datetime(2026, 3, 18, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
TODAY = NOW.date()


@dataclass
class World:
    crm: CrmCast
    interactions: dict[str, Interaction]


def _created(customer: Customer, days_ago: int) -> None:
    Customer.objects.filter(pk=customer.pk).update(created_at=NOW - timedelta(days=days_ago))


def _interaction(customer, employee, days_ago: int, due_in: int | None = None, done=False):
    return Interaction.objects.create(
        customer=customer,
        employee=employee,
        kind="call",
        occurred_at=NOW - timedelta(days=days_ago),
        content="跟进",
        next_follow_up=TODAY + timedelta(days=due_in) if due_in is not None else None,
        follow_up_done_at=NOW if done else None,
    )


def build_world() -> World:
    """Customers a, b, c come from the cast (rep_a/Sales, rep_b/Sales East, rep_c/Service)."""
    crm = make_crm_cast()
    a, b, c = crm.customer_a, crm.customer_b, crm.customer_c
    d = make_customer(crm.rep_a, "苏州丁公司", level="A", source="website", status="active")
    e = make_customer(crm.rep_b, "无锡戊公司", source="referral", status="prospect")
    f = make_customer(crm.rep_c, "天津己公司", source="website", status="active")
    gone = make_customer(crm.rep_a, "已删除公司", level="A", deleted_at=NOW)
    for customer, days_ago in ((a, 0), (b, 14), (c, 76), (d, 84), (e, 200), (f, 7), (gone, 1)):
        _created(customer, days_ago)

    make_opportunity(a, crm.rep_a, "o1", "1000.00")
    make_opportunity(b, crm.rep_b, "o2", "2000.00")
    make_opportunity(d, crm.rep_a, "o3", "500.00", currency="USD")
    make_opportunity(c, crm.rep_c, "o4", "4000.00", stage="proposal")
    make_opportunity(a, crm.rep_a, "won1", "999.00", stage="won", closed_at=NOW - timedelta(5))
    make_opportunity(f, crm.rep_c, "won2", "10.00", stage="won", closed_at=NOW - timedelta(20))
    make_opportunity(b, crm.rep_b, "lost1", "10.00", stage="lost", closed_at=NOW - timedelta(40))
    make_opportunity(d, crm.rep_a, "won_old", "10.00", stage="won", closed_at=NOW - timedelta(200))
    make_opportunity(gone, crm.rep_a, "o_gone", "7.00", deleted_at=NOW)

    interactions = {
        "i1": _interaction(a, crm.rep_a, 1, due_in=-2),
        "i2": _interaction(a, crm.rep_a, 3),
        "i3": _interaction(d, crm.rep_a, 10, due_in=-1, done=True),
        "i4": _interaction(b, crm.rep_b, 2, due_in=-5),
        "i5": _interaction(c, crm.rep_c, 50, due_in=3),
        "i6": _interaction(c, crm.agent, 100, due_in=-10),
        "i7": _interaction(gone, crm.rep_a, 1, due_in=-3),
    }
    return World(crm=crm, interactions=interactions)


@pytest.fixture
def world(db, frozen_clock):
    frozen_clock.current = NOW
    return build_world()
