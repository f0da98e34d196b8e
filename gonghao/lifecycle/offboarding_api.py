"""Offboarding API, under /api/v1/employees/{employee_id}/…: offboard, preview, report, cancel,
and re-enabling a disabled account."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Status

from gonghao.access import services as access
from gonghao.accounts import services as accounts
from gonghao.core.api_support import READ_ERRORS, WRITE_ERRORS, paginate

from . import offboarding as service
from . import retention
from .handover import Move
from .models import HandoverItem, Offboarding
from .permissions import OFFBOARD
from .schemas import EnabledOut, OffboardIn, OffboardingOut, OffboardingPreviewOut

router = Router(tags=["offboarding"])


def _item_out(item: HandoverItem) -> dict:
    return {
        "step": item.step,
        "kind": item.kind,
        "record_id": item.record_id,
        "label": item.label,
        "from_employee_id": item.from_employee_id,
        "to_employee_id": item.to_employee_id or None,
        "moved": item.moved,
        "note": item.note,
    }


def _move_out(step: str, move: Move, employee_id: str) -> dict:
    return {
        "step": step,
        "kind": move.kind,
        "record_id": str(move.record_id),
        "label": move.label,
        "from_employee_id": employee_id,
        "to_employee_id": move.to.employee_id if (move.moved and move.to is not None) else None,
        "moved": move.moved,
        "note": move.note,
    }


def offboarding_out(found: Offboarding, limit: int = 200, offset: int = 0) -> dict:
    page, count = paginate(service.report_items(found), limit, offset)
    items = [_item_out(i) for i in page]
    return {
        "id": found.pk,
        "employee_id": found.employee.employee_id,
        "successor": found.successor.employee_id if found.successor_id else None,
        "effective": found.effective,
        "status": found.status,
        "requested_by": found.requested_by.employee_id,
        "created_at": found.created_at,
        "completed_at": found.completed_at,
        "cancelled_by": found.cancelled_by.employee_id if found.cancelled_by_id else None,
        "cancelled_at": found.cancelled_at,
        "sessions_ended": found.sessions_ended,
        "tokens_revoked": found.tokens_revoked,
        "note": found.note,
        "items": items,
        "count": count,
    }


def _subject(request: HttpRequest, employee_id: str):
    # The permission first, so a caller without it cannot probe which 工号 exist.
    access.require(request.auth, OFFBOARD)
    return accounts.find_employee(employee_id)


@router.post(
    "/{employee_id}/offboard",
    response={201: OffboardingOut, **WRITE_ERRORS},
    summary="Offboard an employee (today: at once; a later date: scheduled); hand records over",
)
def offboard(request: HttpRequest, employee_id: str, payload: OffboardIn):
    employee = _subject(request, employee_id)
    successor = service.resolve_successor(payload.successor)
    created = service.offboard_employee(
        employee, actor=request.auth, successor=successor, effective=payload.effective
    )
    return Status(201, offboarding_out(service.get_offboarding_for(request.auth, created.employee)))


@router.get(
    "/{employee_id}/offboarding",
    response={200: OffboardingOut, **READ_ERRORS},
    summary="The employee's latest offboarding with its handover report (items paginated)",
)
def get_offboarding(request: HttpRequest, employee_id: str, limit: int = 200, offset: int = 0):
    employee = _subject(request, employee_id)
    return offboarding_out(service.get_offboarding_for(request.auth, employee), limit, offset)


@router.get(
    "/{employee_id}/offboarding/preview",
    response={200: OffboardingPreviewOut, **READ_ERRORS},
    summary="What an offboarding would hand over now, to this successor (changes nothing)",
)
def preview_offboarding(
    request: HttpRequest, employee_id: str, successor: str | None = Query(None, max_length=64)
):
    employee = _subject(request, employee_id)
    heir = service.resolve_successor(successor)
    steps = service.preview(employee, actor=request.auth, successor=heir)
    out = [
        {
            "code": step.code,
            "label": step.label,
            "items": [_move_out(step.code, m, employee.employee_id) for m in step.moves],
        }
        for step in steps
    ]
    return {
        "employee_id": employee.employee_id,
        "successor": heir.employee_id if heir else None,
        "steps": out,
        "count": sum(len(s["items"]) for s in out),
    }


@router.post(
    "/{employee_id}/offboarding/cancel",
    response={200: OffboardingOut, **WRITE_ERRORS},
    summary="Cancel a scheduled offboarding before its effective date",
)
def cancel_offboarding(request: HttpRequest, employee_id: str):
    employee = _subject(request, employee_id)
    found = service.get_offboarding_for(request.auth, employee)
    service.cancel_offboarding(found, actor=request.auth)
    return offboarding_out(service.get_offboarding_for(request.auth, employee))


@router.post(
    "/{employee_id}/enable",
    response={200: EnabledOut, **WRITE_ERRORS},
    summary="Re-enable a disabled account (e.g. one disabled as dormant); audited",
)
def enable(request: HttpRequest, employee_id: str):
    access.require(request.auth, "employee.manage")
    employee = accounts.find_employee(employee_id)
    enabled = retention.enable_employee(employee, actor=request.auth)
    return {"employee_id": enabled.employee_id, "status": enabled.status}
