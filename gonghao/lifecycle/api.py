"""Onboarding requests API: file, list, edit, approve, reject, return, withdraw."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Status

from gonghao.core.api_support import READ_ERRORS, WRITE_ERRORS, RecordId, paginate

from . import services
from .models import EmployeeRequest, RequestStatus
from .schemas import (
    ApprovalOut,
    EmployeeRequestIn,
    EmployeeRequestListOut,
    EmployeeRequestOut,
    EmployeeRequestPatch,
    ReasonIn,
)

router = Router(tags=["employee requests"])


def _ref(obj) -> dict | None:
    return {"id": obj.pk, "code": obj.code, "name": obj.name} if obj is not None else None


def request_out(request: EmployeeRequest) -> dict:
    return {
        "id": request.pk,
        "employee_id": request.id_record.employee_id,
        "status": request.status,
        "name": request.name,
        "department": _ref(request.department),
        "position": _ref(request.position),
        "manager": request.manager.employee_id if request.manager_id else None,
        "phone": str(request.phone) if request.phone else "",
        "email": request.email,
        "roles": list(request.roles),
        "start_date": request.start_date,
        "rehire_of": request.rehire_of.employee_id if request.rehire_of_id else None,
        "requested_by": request.requested_by.employee_id,
        "decided_by": request.decided_by.employee_id if request.decided_by_id else None,
        "decided_at": request.decided_at,
        "reason": request.reason,
        "created_at": request.created_at,
        "updated_at": request.updated_at,
    }


@router.post(
    "",
    response={201: EmployeeRequestOut, **WRITE_ERRORS},
    summary="File an onboarding request; the 工号 is reserved at once",
)
def file_request(request: HttpRequest, payload: EmployeeRequestIn):
    data = payload.dict()
    fields = services.resolve_fields(**data)
    created = services.file_request(actor=request.auth, fields=fields)
    return Status(201, request_out(created))


@router.get(
    "",
    response={200: EmployeeRequestListOut, **READ_ERRORS},
    summary="List onboarding requests (approvers: all; requesters: their own)",
)
def list_requests(
    request: HttpRequest,
    status: RequestStatus | None = None,
    limit: int = 50,
    offset: int = 0,
):
    queryset = services.list_requests_for(request.auth, status=status)
    items, count = paginate(queryset, limit, offset)
    return {"items": [request_out(r) for r in items], "count": count}


@router.get(
    "/{request_id}", response={200: EmployeeRequestOut, **READ_ERRORS}, summary="One request"
)
def get_request(request: HttpRequest, request_id: RecordId):
    return request_out(services.get_request_for(request.auth, request_id))


@router.patch(
    "/{request_id}",
    response={200: EmployeeRequestOut, **WRITE_ERRORS},
    summary="Edit a returned request and resubmit it (the requester only)",
)
def update_request(request: HttpRequest, request_id: RecordId, payload: EmployeeRequestPatch):
    found = services.get_request_for(request.auth, request_id)
    data = payload.dict(exclude_unset=True)
    fields = services.resolve_fields(**data)
    return request_out(services.update_request(found, actor=request.auth, fields=fields))


@router.post(
    "/{request_id}/approve",
    response={200: ApprovalOut, **WRITE_ERRORS},
    summary="Approve: the employee becomes active; the one-time password is shown once",
)
def approve_request(request: HttpRequest, request_id: RecordId):
    found = services.get_request_for(request.auth, request_id)
    approval = services.approve_request(found, actor=request.auth)
    return {
        "employee_id": approval.employee.employee_id,
        "initial_password": approval.initial_password,
    }


@router.post(
    "/{request_id}/reject",
    response={200: EmployeeRequestOut, **WRITE_ERRORS},
    summary="Reject with a reason; the reserved 工号 is retired",
)
def reject_request(request: HttpRequest, request_id: RecordId, payload: ReasonIn):
    found = services.get_request_for(request.auth, request_id)
    return request_out(services.reject_request(found, actor=request.auth, reason=payload.reason))


@router.post(
    "/{request_id}/return",
    response={200: EmployeeRequestOut, **WRITE_ERRORS},
    summary="Send a request back to the requester for changes, with a reason",
)
def return_request(request: HttpRequest, request_id: RecordId, payload: ReasonIn):
    found = services.get_request_for(request.auth, request_id)
    return request_out(services.return_request(found, actor=request.auth, reason=payload.reason))


@router.post(
    "/{request_id}/withdraw",
    response={200: EmployeeRequestOut, **WRITE_ERRORS},
    summary="Withdraw a request (the requester only); the reserved 工号 is retired",
)
def withdraw_request(request: HttpRequest, request_id: RecordId):
    found = services.get_request_for(request.auth, request_id)
    return request_out(services.withdraw_request(found, actor=request.auth))
