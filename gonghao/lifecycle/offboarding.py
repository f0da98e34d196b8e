"""Offboarding (工号回收): schedule, cancel, perform, preview, and the handover report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from gonghao.access import services as access
from gonghao.accounts import services as accounts
from gonghao.accounts.models import (
    ApiToken,
    Employee,
    EmployeeIdRecord,
    EmployeeIdState,
    EmployeeStatus,
)
from gonghao.accounts.reset import end_sessions
from gonghao.audit.services import record, record_many
from gonghao.core import clock
from gonghao.core.csv_export import render_csv
from gonghao.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

from . import audit_actions, handover
from .constants import MAX_REPORT_LABEL, POOL
from .models import HandoverItem, Offboarding, OffboardingStatus
from .permissions import OFFBOARD


def today() -> date:
    return timezone.localdate(clock.now())


def _label(employee: Employee | None) -> str:
    return employee.employee_id if employee is not None else POOL


# --- reads -------------------------------------------------------------------------------------


def latest_offboarding(employee: Employee) -> Offboarding | None:
    return (
        Offboarding.objects.filter(employee=employee)
        .select_related("employee", "successor", "requested_by", "cancelled_by")
        .order_by("-created_at", "-id")
        .first()
    )


def get_offboarding_for(actor: Any, employee: Employee) -> Offboarding:
    """The employee's latest offboarding (any status), for holders of `employee.offboard`."""
    access.require(actor, OFFBOARD)
    found = latest_offboarding(employee)
    if found is None:
        raise NotFound(_("This employee has no offboarding."), code="offboarding_not_found")
    return found


def report_items(offboarding: Offboarding) -> QuerySet[HandoverItem]:
    return offboarding.items.order_by("id")


def render_report_csv(offboarding: Offboarding) -> str:
    """The handover report as CSV (UTF-8 with a BOM, so Excel in China opens it right)."""
    header = ["step", "kind", "record_id", "label", "from", "to", "moved", "note"]
    rows = (
        [
            item.step,
            item.kind,
            item.record_id,
            item.label,
            item.from_employee_id,
            item.to_employee_id or (POOL if item.moved else ""),
            "yes" if item.moved else "no",
            item.note,
        ]
        for item in report_items(offboarding)
    )
    return "".join(render_csv(header, rows, rows_per_chunk=1000))


def export_report_csv(offboarding: Offboarding, *, actor: Any) -> str:
    """The CSV, with an audit event: the report names customers, so taking it out is traced."""
    access.require(actor, OFFBOARD)
    text = render_report_csv(offboarding)
    with transaction.atomic():
        record(
            audit_actions.HANDOVER_EXPORT,
            actor=actor,
            target=offboarding.employee,
            params={"offboarding": offboarding.pk, "count": offboarding.items.count()},
        )
    return text


@dataclass
class PreviewStep:
    code: str
    label: str
    moves: list[handover.Move]


def preview(employee: Employee, *, actor: Any, successor: Employee | None) -> list[PreviewStep]:
    """What would move if the offboarding ran now; changes nothing."""
    access.require(actor, OFFBOARD)
    return [
        PreviewStep(step.code, str(step.label), moves)
        for step, moves in handover.plan_all(employee, successor)
    ]


# --- checks ------------------------------------------------------------------------------------


def resolve_successor(raw: str | None) -> Employee | None:
    """The successor named by a 工号; blank or "pool" means the public pool (None)."""
    if raw is None or not str(raw).strip() or str(raw).strip().lower() == POOL:
        return None
    try:
        return accounts.find_employee(raw)
    except (accounts.InvalidEmployeeId, NotFound) as error:
        raise ValidationFailed(field_errors={"successor": [str(error.message)]})


def _check(employee: Employee, *, actor: Any, successor: Employee | None, effective: date) -> None:
    if employee.pk == actor.pk:
        raise PermissionDenied(
            _("Nobody can offboard themselves; ask another administrator."),
            code="offboard_self",
        )
    if employee.status == EmployeeStatus.DEPARTED:
        raise Conflict(
            _("%(id)s has already departed.") % {"id": employee.employee_id},
            code="already_departed",
        )
    errors: dict[str, list[str]] = {}
    if successor is not None:
        if successor.pk == employee.pk:
            errors["successor"] = [_("The successor must be someone else.")]
        elif successor.status != EmployeeStatus.ACTIVE:
            errors["successor"] = [
                _("The successor %(id)s is not active (%(status)s).")
                % {"id": successor.employee_id, "status": successor.get_status_display()}
            ]
    if effective < today():
        errors["effective"] = [_("The effective date cannot be in the past.")]
    if errors:
        raise ValidationFailed(field_errors=errors)


def check_offboarding(
    employee: Employee, *, actor: Any, successor: Employee | None, effective: date | None
) -> date:
    """The checks of `offboard_employee` without changing anything (the page's preview step);
    returns the effective date."""
    access.require(actor, OFFBOARD)
    effective = effective or today()
    _check(employee, actor=actor, successor=successor, effective=effective)
    return effective


# --- writes ------------------------------------------------------------------------------------


def offboard_employee(
    employee: Employee,
    *,
    actor: Any,
    successor: Employee | None,
    effective: date | None = None,
) -> Offboarding:
    """Offboard now (effective today) or schedule it; `lifecycle.offboard_due` runs the
    scheduled ones on their day."""
    access.require(actor, OFFBOARD)
    effective = effective or today()
    _check(employee, actor=actor, successor=successor, effective=effective)
    with transaction.atomic():
        employee = Employee.objects.select_for_update().get(pk=employee.pk)
        _check(employee, actor=actor, successor=successor, effective=effective)
        if Offboarding.objects.filter(
            employee=employee, status=OffboardingStatus.SCHEDULED
        ).exists():
            raise Conflict(
                _("An offboarding is already scheduled for this employee; cancel it first."),
                code="offboarding_scheduled",
            )
        offboarding = Offboarding.objects.create(
            employee=employee,
            successor=successor,
            effective=effective,
            requested_by=actor,
        )
        if effective > today():
            record(
                audit_actions.OFFBOARD_SCHEDULE,
                actor=actor,
                target=employee,
                params={
                    "offboarding": offboarding.pk,
                    "effective": effective.isoformat(),
                    "successor": _label(successor),
                },
            )
        else:
            _perform(offboarding, employee, actor=actor)
    return offboarding


def cancel_offboarding(offboarding: Offboarding, *, actor: Any) -> Offboarding:
    access.require(actor, OFFBOARD)
    with transaction.atomic():
        offboarding = Offboarding.objects.select_for_update().get(pk=offboarding.pk)
        if offboarding.status != OffboardingStatus.SCHEDULED:
            raise Conflict(
                _("Only a scheduled offboarding can be cancelled; this one is %(status)s.")
                % {"status": offboarding.get_status_display()},
                code="offboarding_not_scheduled",
            )
        offboarding.status = OffboardingStatus.CANCELLED
        offboarding.cancelled_by = actor
        offboarding.cancelled_at = clock.now()
        offboarding.save(update_fields=["status", "cancelled_by", "cancelled_at"])
        record(
            audit_actions.OFFBOARD_CANCEL,
            actor=actor,
            target=offboarding.employee,
            params={"offboarding": offboarding.pk, "effective": offboarding.effective.isoformat()},
        )
    return offboarding


def _perform(offboarding: Offboarding, employee: Employee, *, actor: Any) -> None:
    """Depart, end every login, run the handover steps, write the report and the events.

    Runs inside the caller's transaction with the employee row locked.
    """
    now = clock.now()
    successor = offboarding.successor
    note = ""
    if successor is not None:
        successor = Employee.objects.select_for_update().get(pk=successor.pk)
        if successor.status != EmployeeStatus.ACTIVE:
            # A scheduled offboarding still takes the 工号 back on its day: access must end.
            note = _("Successor %(id)s was no longer active; records went to the public pool.") % {
                "id": successor.employee_id
            }
            successor = None
    items: list[HandoverItem] = []
    moved_events: list[dict[str, Any]] = []
    for step, moves in handover.plan_all(employee, successor):
        step.apply(employee, successor, moves)
        for move in moves:
            to_id = move.to.employee_id if (move.moved and move.to is not None) else ""
            items.append(
                HandoverItem(
                    offboarding=offboarding,
                    step=step.code,
                    kind=move.kind,
                    record_id=str(move.record_id),
                    label=(move.label or "")[:MAX_REPORT_LABEL],
                    from_employee_id=employee.employee_id,
                    to_employee_id=to_id,
                    moved=move.moved,
                    note=(move.note or "")[:MAX_REPORT_LABEL],
                )
            )
            if move.moved:
                moved_events.append(
                    {
                        "action": audit_actions.HANDOVER_MOVE,
                        "actor": actor,
                        "target_type": move.target_type,
                        "target_id": move.record_id,
                        "target_label": move.label,
                        "params": {
                            "kind": move.kind,
                            "from": employee.employee_id,
                            "to": to_id or POOL,
                            "employee_id": employee.employee_id,
                            "offboarding": offboarding.pk,
                        },
                    }
                )
    # One event per record handed over, written together: an employee may hold tens of
    # thousands of records, and a round trip per event kept the departure waiting.
    record_many(moved_events)
    HandoverItem.objects.bulk_create(items)

    before = employee.status
    employee.status = EmployeeStatus.DEPARTED
    employee.departure_date = offboarding.effective
    employee.save(update_fields=["status", "departure_date", "updated_at"])
    EmployeeIdRecord.objects.filter(holder=employee).update(state=EmployeeIdState.DEPARTED)
    tokens = ApiToken.objects.filter(employee=employee, revoked_at__isnull=True).update(
        revoked_at=now
    )
    sessions = end_sessions(employee)
    access.forget_cached_permissions(employee)

    offboarding.status = OffboardingStatus.DONE
    offboarding.completed_at = now
    offboarding.successor = successor
    offboarding.sessions_ended = sessions
    offboarding.tokens_revoked = tokens
    offboarding.note = note[:MAX_REPORT_LABEL]
    offboarding.save(
        update_fields=[
            "status",
            "completed_at",
            "successor",
            "sessions_ended",
            "tokens_revoked",
            "note",
        ]
    )
    record(
        audit_actions.OFFBOARD,
        actor=actor,
        target=employee,
        params={
            "offboarding": offboarding.pk,
            "effective": offboarding.effective.isoformat(),
            "successor": _label(successor),
            "moved": sum(1 for item in items if item.moved),
            "items": len(items),
            "sessions": sessions,
            "tokens": tokens,
            **({"note": note} if note else {}),
        },
        changes={
            "status": [before, EmployeeStatus.DEPARTED],
            "departure_date": [None, offboarding.effective],
        },
    )


def perform_due(now: Any = None) -> dict[str, int]:
    """Perform the scheduled offboardings whose day has come (the daily job). Idempotent: a
    done one is no longer scheduled, and each runs under a lock that re-checks its status."""
    due_day = timezone.localdate(now or clock.now())
    done = skipped = 0
    due_ids = list(
        Offboarding.objects.filter(
            status=OffboardingStatus.SCHEDULED, effective__lte=due_day
        ).values_list("pk", flat=True)
    )
    for pk in due_ids:
        with transaction.atomic():
            offboarding = Offboarding.objects.select_for_update().get(pk=pk)
            if offboarding.status != OffboardingStatus.SCHEDULED:
                skipped += 1
                continue
            employee = Employee.objects.select_for_update().get(pk=offboarding.employee_id)
            if employee.status == EmployeeStatus.DEPARTED:
                offboarding.status = OffboardingStatus.CANCELLED
                offboarding.note = "already departed"
                offboarding.save(update_fields=["status", "note"])
                skipped += 1
                continue
            _perform(offboarding, employee, actor=None)
            done += 1
    return {"offboarded": done, "skipped": skipped}
