"""Onboarding: file, edit, approve, reject, return and withdraw employee requests."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from gonghao.access import services as access
from gonghao.access.models import DataScope, Role
from gonghao.accounts import services as accounts
from gonghao.accounts.models import Employee, EmployeeIdRecord, EmployeeIdState, EmployeeStatus
from gonghao.audit.services import diff, record
from gonghao.core.errors import NotFound, PermissionDenied, ValidationFailed
from gonghao.core.text import has_control_characters
from gonghao.messaging.services import queue_message
from gonghao.org.models import Department, Position

from . import audit_actions, decisions
from .constants import MAX_REASON, MAX_ROLES, ONBOARDING_PURPOSE
from .models import OPEN_STATUSES, EmployeeRequest, RequestStatus
from .permissions import APPROVE, REQUEST

_UNSET: Any = object()
EDITABLE_FIELDS = (
    "name",
    "department",
    "position",
    "manager",
    "phone",
    "email",
    "roles",
    "start_date",
    "rehire_of",
)


# --- reads -------------------------------------------------------------------------------------


def _with_relations() -> QuerySet[EmployeeRequest]:
    """Requests with every related row a page or an API answer shows."""
    return EmployeeRequest.objects.select_related(
        "id_record", "department", "position", "manager", "requested_by", "decided_by", "rehire_of"
    )


def restrict(actor: Any) -> QuerySet[EmployeeRequest]:
    """Approvers see every request; requesters see the ones they filed; others none."""
    queryset = _with_relations()
    if access.has_permission(actor, APPROVE):
        return queryset
    if access.has_permission(actor, REQUEST):
        return queryset.filter(requested_by_id=actor.pk)
    return queryset.none()


def get_request_for(actor: Any, request_id: int) -> EmployeeRequest:
    if not (access.has_permission(actor, APPROVE) or access.has_permission(actor, REQUEST)):
        raise PermissionDenied()
    found = restrict(actor).filter(pk=request_id).first()
    if found is None:
        raise NotFound(_("No onboarding request has this id."), code="request_not_found")
    return found


def list_requests_for(actor: Any, status: str | None = None) -> QuerySet[EmployeeRequest]:
    if not (access.has_permission(actor, APPROVE) or access.has_permission(actor, REQUEST)):
        raise PermissionDenied()
    queryset = restrict(actor)
    if status:
        queryset = queryset.filter(status=status)
    return queryset


# --- input -------------------------------------------------------------------------------------


@dataclass
class RequestFields:
    """Resolved fields of a request (objects, not ids)."""

    name: str = _UNSET
    department: Department | None = _UNSET
    position: Position | None = _UNSET
    manager: Employee | None = _UNSET
    phone: str = _UNSET
    email: str = _UNSET
    roles: list[str] = _UNSET
    start_date: date | None = _UNSET
    rehire_of: Employee | None = _UNSET

    def given(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in EDITABLE_FIELDS if getattr(self, f) is not _UNSET}


def resolve_fields(
    *,
    department_id: Any = _UNSET,
    position_id: Any = _UNSET,
    manager: Any = _UNSET,
    rehire_of: Any = _UNSET,
    **plain: Any,
) -> RequestFields:
    """Turn ids and a manager's 工号 into objects; unknown ones are field errors (422)."""
    errors: dict[str, list[str]] = {}
    fields = RequestFields(**plain)
    not_found = _("Not found.")
    if department_id is not _UNSET:
        fields.department = (
            Department.objects.filter(pk=department_id).first() if department_id else None
        )
        if fields.department is None:
            errors["department_id"] = [
                not_found if department_id else _("A department is required.")
            ]
    if position_id is not _UNSET:
        fields.position = None
        if position_id is not None:
            fields.position = Position.objects.filter(pk=position_id).first()
            if fields.position is None:
                errors["position_id"] = [not_found]
    if manager is not _UNSET:
        fields.manager = None
        if manager:
            try:
                fields.manager = accounts.find_employee(manager)
            except (accounts.InvalidEmployeeId, NotFound) as error:
                errors["manager"] = [str(error.message)]
    if rehire_of is not _UNSET:
        try:
            fields.rehire_of = accounts.resolve_rehire_of(rehire_of)
        except ValidationFailed as error:
            errors.update(error.field_errors)
    if errors:
        raise ValidationFailed(field_errors=errors)
    return fields


def _clean_roles(codes: list[str]) -> list[str]:
    unique = sorted({(code or "").strip() for code in codes})
    if len(unique) > MAX_ROLES:
        raise ValidationFailed(field_errors={"roles": [_("Too many roles.")]})
    known = set(Role.objects.filter(code__in=unique).values_list("code", flat=True))
    unknown = [code for code in unique if code not in known]
    if unknown:
        raise ValidationFailed(
            field_errors={"roles": [_("Unknown roles: %(codes)s") % {"codes": ", ".join(unknown)}]}
        )
    return unique


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_REASON:
        raise ValidationFailed(
            field_errors={"reason": [_("A reason of 1 to 500 characters is required.")]}
        )
    if has_control_characters(reason, multiline=True):
        raise ValidationFailed(field_errors={"reason": [_("Control characters are not allowed.")]})
    return reason


def _validate(request: EmployeeRequest) -> None:
    """Model-level checks (phone, e-mail, lengths) before anything is stored or allocated."""
    errors: dict[str, list[str]] = {}
    try:
        request.name = accounts.clean_employee_name(request.name)
    except ValidationFailed as error:
        errors.update(error.field_errors)
    try:
        request.full_clean(
            exclude=[
                "id_record",
                "requested_by",
                "decided_by",
                "new_employee",
                "name",
                "rehire_of",
            ]
        )
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            errors.setdefault(field, []).extend(str(m) for m in messages)
    if errors:
        raise ValidationFailed(field_errors=errors)


def _require_department_in_scope(actor: Any, department: Department) -> None:
    """A requester may only request for their own department (tree), per their role's scope."""
    scopes = access.scopes_for(actor, REQUEST)
    if DataScope.ALL in scopes:
        return
    own = getattr(actor, "department", None)
    allowed: set[int] = set()
    if own is not None:
        if DataScope.DEPARTMENT_TREE in scopes:
            allowed = own.descendant_ids()
        else:
            allowed = {own.pk}
    if department.pk not in allowed:
        raise PermissionDenied(
            _("You can only request employees for your own department and its sub-departments."),
            code="department_out_of_scope",
        )


def _snapshot(request: EmployeeRequest) -> dict[str, Any]:
    return {
        "name": request.name,
        "department": request.department_id,
        "position": request.position_id,
        "manager": request.manager.employee_id if request.manager_id else None,
        "phone": str(request.phone) if request.phone else "",
        "email": request.email,
        "roles": list(request.roles),
        "start_date": request.start_date,
        "rehire_of": request.rehire_of.employee_id if request.rehire_of_id else None,
        "status": request.status,
    }


def _params(request: EmployeeRequest, **extra: Any) -> dict[str, Any]:
    return {
        "request": request.pk,
        "employee_id": request.id_record.employee_id,
        "name": request.name,
        **extra,
    }


def _record(action: str, request: EmployeeRequest, *, actor: Any, **kwargs: Any) -> None:
    params = _params(request, **kwargs.pop("params", {}))
    record(
        action,
        actor=actor,
        target=request,
        target_label=f"{request.id_record.employee_id} {request.name}",
        params=params,
        **kwargs,
    )


# --- writes ------------------------------------------------------------------------------------


def file_request(*, actor: Any, fields: RequestFields) -> EmployeeRequest:
    """File a request and reserve its 工号 at once."""
    access.require(actor, REQUEST)
    given = fields.given()
    if given.get("department") is None:
        raise ValidationFailed(field_errors={"department_id": [_("A department is required.")]})
    request = EmployeeRequest(
        name=given.get("name", ""),
        department=given["department"],
        position=given.get("position"),
        manager=given.get("manager"),
        phone=given.get("phone") or "",
        email=(given.get("email") or "").strip(),
        roles=_clean_roles(given.get("roles") or []),
        start_date=given.get("start_date"),
        rehire_of=given.get("rehire_of"),
        requested_by=actor,
    )
    _validate(request)
    _require_department_in_scope(actor, request.department)
    with transaction.atomic():
        request.id_record = accounts.allocate_employee_id(actor=actor, purpose=ONBOARDING_PURPOSE)
        request.save()
        _record(
            audit_actions.REQUEST_CREATE,
            request,
            actor=actor,
            changes={
                k: [None, v] for k, v in _snapshot(request).items() if v not in (None, "", [])
            },
        )
    return request


def _locked(request: EmployeeRequest, allowed: Collection[str]) -> EmployeeRequest:
    """The request locked with its reserved 工号, its relations loaded for the answer."""
    return decisions.lock_in_state(_with_relations(), request, allowed, lock=("self", "id_record"))


def _require_requester(request: EmployeeRequest, actor: Any) -> None:
    access.require(actor, REQUEST)
    if request.requested_by_id != actor.pk:
        raise PermissionDenied(_("Only the requester can edit this request."), code="not_requester")


def require_editable(request: EmployeeRequest, *, actor: Any) -> None:
    """Refuse the edit form to anyone but the requester, and while the request is not returned."""
    _require_requester(request, actor)
    if request.status != RequestStatus.RETURNED:
        raise decisions.not_in_state(request)


def update_request(
    request: EmployeeRequest, *, actor: Any, fields: RequestFields
) -> EmployeeRequest:
    """The requester edits a returned request; saving resubmits it to the approvers.

    Returns the request as saved, its relations loaded."""
    _require_requester(request, actor)
    given = fields.given()
    if "department" in given and given["department"] is None:
        raise ValidationFailed(field_errors={"department_id": [_("A department is required.")]})
    if "roles" in given:
        given["roles"] = _clean_roles(given["roles"] or [])
    with transaction.atomic():
        request = _locked(request, (RequestStatus.RETURNED,))
        before = _snapshot(request)
        for field, value in given.items():
            if field in ("phone", "email"):
                value = (value or "").strip()
            setattr(request, field, value)
        _validate(request)
        _require_department_in_scope(actor, request.department)
        request.status = RequestStatus.SUBMITTED
        request.save()
        _record(
            audit_actions.REQUEST_UPDATE,
            request,
            actor=actor,
            changes=diff(before, _snapshot(request)),
        )
    return request


def _retire(request: EmployeeRequest) -> None:
    EmployeeIdRecord.objects.filter(pk=request.id_record_id).update(state=EmployeeIdState.RETIRED)
    request.id_record.state = EmployeeIdState.RETIRED


@dataclass
class Approval:
    request: EmployeeRequest
    employee: Employee
    initial_password: str
    delivered_by: str | None  # "email", "sms" or None (shown to the approver only)


def approve_request(request: EmployeeRequest, *, actor: Any) -> Approval:
    """Create the employee with the reserved 工号 and the requested roles, in one transaction.

    The one-time password is queued to the employee's e-mail (else phone) and returned once.
    A SoD conflict among the roles refuses the approval and leaves everything as it was.
    """
    access.require(actor, APPROVE)
    with transaction.atomic():
        request = _locked(request, (RequestStatus.SUBMITTED,))
        decisions.refuse_own_request(request, actor)
        decisions.refuse_roles_not_held(actor, request.roles)
        employee, password = accounts.create_employee_with_id(
            actor=actor,
            id_entry=request.id_record,
            name=request.name,
            department=request.department,
            position=request.position,
            manager=request.manager,
            phone=str(request.phone) if request.phone else "",
            email=request.email,
            hire_date=request.start_date,
            status=EmployeeStatus.ACTIVE,
            audit_params={"request": request.pk},
            rehire_of=request.rehire_of,
        )
        assert password is not None
        for code in request.roles:
            access.grant_role(
                employee,
                code,
                actor=actor,
                check_permission=False,
                audit_params={"via": "onboarding", "request": request.pk},
            )
        channel = "email" if employee.email else ("sms" if employee.phone else None)
        if channel is not None:
            queue_message(
                channel=channel,
                recipient=employee.email if channel == "email" else str(employee.phone),
                template="account.initial_password",
                params={
                    "name": employee.name,
                    "employee_id": employee.employee_id,
                    "password": password,
                },
                employee=employee,
                actor=actor,
            )
        request.new_employee = employee
        before = decisions.mark_decided(
            request, actor=actor, to=RequestStatus.APPROVED, also_saved=("new_employee",)
        )
        request.id_record.refresh_from_db()
        _record(
            audit_actions.REQUEST_APPROVE,
            request,
            actor=actor,
            params={"delivered_by": channel or "approver"},
            changes={"status": [before, request.status]},
        )
    return Approval(request, employee, password, channel)


def _decide(
    request: EmployeeRequest,
    *,
    actor: Any,
    to: str,
    action: str,
    reason: str,
    allowed: tuple[str, ...],
    retire: bool,
) -> EmployeeRequest:
    with transaction.atomic():
        request = _locked(request, allowed)
        before = decisions.mark_decided(request, actor=actor, to=to, reason=reason)
        if retire:
            _retire(request)
        extra = {"reason": reason} if reason else {}
        _record(action, request, actor=actor, params=extra, changes={"status": [before, to]})
    return request


def reject_request(request: EmployeeRequest, *, actor: Any, reason: str) -> EmployeeRequest:
    """Refuse the request for good; its 工号 is retired, never reissued."""
    access.require(actor, APPROVE)
    reason = _clean_reason(reason)
    return _decide(
        request,
        actor=actor,
        to=RequestStatus.REJECTED,
        action=audit_actions.REQUEST_REJECT,
        reason=reason,
        allowed=OPEN_STATUSES,
        retire=True,
    )


def return_request(request: EmployeeRequest, *, actor: Any, reason: str) -> EmployeeRequest:
    """Send a submitted request back to the requester for changes; the 工号 stays reserved."""
    access.require(actor, APPROVE)
    reason = _clean_reason(reason)
    return _decide(
        request,
        actor=actor,
        to=RequestStatus.RETURNED,
        action=audit_actions.REQUEST_RETURN,
        reason=reason,
        allowed=(RequestStatus.SUBMITTED,),
        retire=False,
    )


def withdraw_request(request: EmployeeRequest, *, actor: Any) -> EmployeeRequest:
    """The requester takes the request back; its 工号 is retired."""
    if request.requested_by_id != actor.pk:
        raise PermissionDenied(
            _("Only the requester can withdraw this request."), code="not_requester"
        )
    access.require(actor, REQUEST)
    return _decide(
        request,
        actor=actor,
        to=RequestStatus.WITHDRAWN,
        action=audit_actions.REQUEST_WITHDRAW,
        reason="",
        allowed=OPEN_STATUSES,
        retire=True,
    )
