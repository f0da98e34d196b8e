"""Opportunities for tests: one per sales rep of the CRM cast, written without services."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from gonghao.audit.models import AuditEvent
from gonghao.core import clock
from gonghao.crm.models import Customer, Opportunity, Stage, StageChange
from gonghao.testing.crm import CrmCast


def make_opportunity(
    customer: Customer, owner, name: str, amount: str = "0", stage: str = "initial", **fields
) -> Opportunity:
    """An opportunity and its first history row: a fixture, not an action (no audit)."""
    stage_row = Stage.objects.get(code=stage)
    opportunity = Opportunity.objects.create(
        customer=customer,
        name=name,
        amount=Decimal(amount),
        stage=stage_row,
        probability=stage_row.probability,
        owner=owner,
        owner_department=owner.department,
        created_by=owner,
        **fields,
    )
    StageChange.objects.create(
        opportunity=opportunity, to_stage=stage_row, changed_by=owner, changed_at=clock.now()
    )
    return opportunity


@dataclass
class Opps:
    a: Opportunity  # rep_a's, on customer_a (Sales)
    b: Opportunity  # rep_b's, on customer_b (Sales East)
    c: Opportunity  # rep_c's, on customer_c (Service)


def make_opps(crm: CrmCast) -> Opps:
    return Opps(
        a=make_opportunity(crm.customer_a, crm.rep_a, "甲公司ERP项目", "1000.00"),
        b=make_opportunity(crm.customer_b, crm.rep_b, "乙公司云迁移", "2000.00"),
        c=make_opportunity(crm.customer_c, crm.rep_c, "丙公司维保合同", "4000.00"),
    )


def pipeline_events() -> list[str]:
    """The opportunity and stage events written so far, in order."""
    return list(
        AuditEvent.objects.filter(action__regex=r"^(opportunity|stage)\.")
        .order_by("seq")
        .values_list("action", flat=True)
    )


def hide_for_sales(*fields: str) -> None:
    """Make the sales role hide opportunity fields (e.g. "amount")."""
    from gonghao.access.models import Role

    Role.objects.filter(code="sales").update(
        hidden_fields=[f"opportunity.{name}" for name in fields]
    )
