"""The built-in handover steps: customers, open opportunities, open follow-ups, pending
onboarding requests and direct reports.

Decisions, each documented in the README:
- Customers (also soft-deleted ones, so a restore does not bring back a departed owner) go to
  the successor, whose department becomes the owner's department; with no successor they go
  to the public pool (owner NULL) and keep their department.
- Only open opportunities move; won and lost ones stay with the person who closed them, so
  sales history and reports keep crediting the right 工号. With no successor: owner NULL.
- Open follow-ups (a next follow-up date, not done) move to the successor. The interaction's
  `employee` is who must follow up next; who recorded it stays in the audit trail. With no
  successor they stay on the customer's timeline (the column cannot be empty) and the report
  lists them as left there for whoever claims the customer.
- Open onboarding requests the employee filed are re-filed in the successor's name (they can
  edit a returned one); with no successor they stay for the approvers, who can still decide.
  Requests waiting for a decision are not assigned to one approver: any other holder of
  `employee.approve` decides them, so nothing moves.
- Direct reports get the successor as manager, or else the departing employee's own manager.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gonghao.accounts.models import Employee, EmployeeStatus
from gonghao.core import clock
from gonghao.crm.models import Customer, Interaction, Opportunity

from .handover import Move, register_handover_step
from .models import OPEN_STATUSES, EmployeeRequest


def _ids(moves: list[Move]) -> list[Any]:
    return [m.record_id for m in moves if m.moved]


# --- customers ---------------------------------------------------------------------------------


def plan_customers(employee: Employee, successor: Employee | None) -> list[Move]:
    rows = (
        Customer.objects.filter(owner=employee)
        .order_by("id")
        .values_list("id", "name", "deleted_at")
    )
    return [
        Move(
            "customer",
            "crm.customer",
            pk,
            name,
            to=successor,
            note=str(_("deleted")) if deleted_at else "",
        )
        for pk, name, deleted_at in rows
    ]


def apply_customers(employee: Employee, successor: Employee | None, moves: list[Move]) -> None:
    fields: dict[str, Any] = {"owner": successor, "updated_at": clock.now()}
    if successor is not None:
        fields["owner_department_id"] = successor.department_id
    Customer.objects.filter(owner=employee, pk__in=_ids(moves)).update(**fields)


# --- opportunities -----------------------------------------------------------------------------


def _open_opportunities(employee: Employee):
    return Opportunity.objects.filter(owner=employee).exclude(
        Q(stage__is_won=True) | Q(stage__is_lost=True)
    )


def plan_opportunities(employee: Employee, successor: Employee | None) -> list[Move]:
    rows = _open_opportunities(employee).order_by("id").values_list("id", "name")
    return [Move("opportunity", "crm.opportunity", pk, name, to=successor) for pk, name in rows]


def apply_opportunities(employee: Employee, successor: Employee | None, moves: list[Move]) -> None:
    fields: dict[str, Any] = {"owner": successor, "updated_at": clock.now()}
    if successor is not None:
        fields["owner_department_id"] = successor.department_id
    Opportunity.objects.filter(owner=employee, pk__in=_ids(moves)).update(**fields)


# --- follow-ups --------------------------------------------------------------------------------


def plan_follow_ups(employee: Employee, successor: Employee | None) -> list[Move]:
    rows = (
        Interaction.objects.filter(
            employee=employee, next_follow_up__isnull=False, follow_up_done_at__isnull=True
        )
        .order_by("next_follow_up", "id")
        .values_list("id", "customer__name", "next_follow_up")
    )
    moves = []
    for pk, customer_name, due in rows:
        label = f"{customer_name} · {due:%Y-%m-%d}"
        if successor is None:
            note = str(_("left on the customer's timeline for whoever claims it"))
            moves.append(Move("follow_up", "crm.interaction", pk, label, moved=False, note=note))
        else:
            moves.append(Move("follow_up", "crm.interaction", pk, label, to=successor))
    return moves


def apply_follow_ups(employee: Employee, successor: Employee | None, moves: list[Move]) -> None:
    if successor is not None:
        Interaction.objects.filter(employee=employee, pk__in=_ids(moves)).update(employee=successor)


# --- onboarding requests -----------------------------------------------------------------------


def plan_requests(employee: Employee, successor: Employee | None) -> list[Move]:
    rows = (
        EmployeeRequest.objects.filter(requested_by=employee, status__in=OPEN_STATUSES)
        .select_related("id_record")
        .order_by("id")
    )
    moves = []
    for request in rows:
        label = f"#{request.pk} {request.id_record.employee_id} {request.name}"
        if successor is None:
            note = str(_("left for the approvers to decide"))
            moves.append(
                Move(
                    "employee_request",
                    "lifecycle.employeerequest",
                    request.pk,
                    label,
                    moved=False,
                    note=note,
                )
            )
        else:
            moves.append(
                Move("employee_request", "lifecycle.employeerequest", request.pk, label, successor)
            )
    return moves


def apply_requests(employee: Employee, successor: Employee | None, moves: list[Move]) -> None:
    if successor is not None:
        EmployeeRequest.objects.filter(requested_by=employee, pk__in=_ids(moves)).update(
            requested_by=successor, updated_at=clock.now()
        )


# --- direct reports ----------------------------------------------------------------------------


def _new_manager(employee: Employee, successor: Employee | None, report: Employee) -> Any:
    manager = successor if successor is not None else employee.manager
    if manager is not None and manager.pk == report.pk:
        manager = employee.manager  # the successor was a report: they go one level up
    return manager


def plan_reports(employee: Employee, successor: Employee | None) -> list[Move]:
    rows = (
        Employee.objects.filter(manager=employee)
        .exclude(status=EmployeeStatus.DEPARTED)
        .order_by("employee_id")
    )
    return [
        Move(
            "report",
            "accounts.employee",
            e.pk,
            f"{e.employee_id} {e.name}",
            to=_new_manager(employee, successor, e),
        )
        for e in rows
    ]


def apply_reports(employee: Employee, successor: Employee | None, moves: list[Move]) -> None:
    for move in moves:
        Employee.objects.filter(manager=employee, pk=move.record_id).update(manager=move.to)


register_handover_step(
    "crm.customers", label=_("Customers"), plan=plan_customers, apply=apply_customers, order=10
)
register_handover_step(
    "crm.opportunities",
    label=_("Open opportunities"),
    plan=plan_opportunities,
    apply=apply_opportunities,
    order=20,
)
register_handover_step(
    "crm.follow_ups",
    label=_("Open follow-ups"),
    plan=plan_follow_ups,
    apply=apply_follow_ups,
    order=30,
)
register_handover_step(
    "lifecycle.requests",
    label=_("Open onboarding requests filed"),
    plan=plan_requests,
    apply=apply_requests,
    order=40,
)
register_handover_step(
    "accounts.reports",
    label=_("Direct reports"),
    plan=plan_reports,
    apply=apply_reports,
    order=50,
)
