"""Role-change requests: granting (or revoking) a gated role goes through a second person.

Filed by someone who may grant roles (role.manage) or by the head of the employee's
department (or of a department above it); approved by another holder of
role_request.approve — never the requester, never the employee concerned, and (as for
onboarding, GONGHAO_APPROVER_MUST_HOLD_ROLES) never for a role the approver does not hold.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from gonghao.access import services as access
from gonghao.access.models import Role, RoleGrant
from gonghao.accounts.models import Employee
from gonghao.audit.services import record
from gonghao.core import clock
from gonghao.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gonghao.crm.validation import _CONTROL as CONTROL_CHARACTERS
from gonghao.org.models import Department

from . import access_audit_actions as actions
from . import decisions
from .access_models import RoleChangeRequest, RoleRequestKind, RoleRequestStatus
from .access_permissions import ROLE_REQUEST_APPROVE
from .constants import MAX_REASON

ROLE_MANAGE = "role.manage"


# --- who may do what ---------------------------------------------------------------------------


def heads_department_of(actor: Any, employee: Employee) -> bool:
    """Is the actor the head of the employee's department or of one above it?"""
    if actor is None or employee.department_id is None:
        return False
    departments = {
        pk: (parent_id, head_id)
        for pk, parent_id, head_id in Department.objects.values_list("pk", "parent_id", "head_id")
    }
    seen: set[int] = set()
    department_id: int | None = employee.department_id
    while department_id is not None and department_id not in seen:
        seen.add(department_id)
        parent_id, head_id = departments.get(department_id, (None, None))
        if head_id == actor.pk:
            return True
        department_id = parent_id
    return False


def may_file(actor: Any, employee: Employee) -> bool:
    return access.has_permission(actor, ROLE_MANAGE) or heads_department_of(actor, employee)


def may_file_any(actor: Any) -> bool:
    """May the actor file a request for anyone at all (a role manager, or a department head)?"""
    if actor is None or not getattr(actor, "pk", None):
        return False
    return (
        access.has_permission(actor, ROLE_MANAGE)
        or Department.objects.filter(head_id=actor.pk).exists()
    )


def refuse_unless_may_file_any(actor: Any) -> None:
    """Refuse before looking the employee up, so that filing cannot probe who exists."""
    if not may_file_any(actor):
        raise PermissionDenied(
            _(
                "Only someone who may grant roles, or the head of the employee's department, "
                "can file a role-change request."
            ),
            code="not_allowed_to_request",
        )


def restrict(actor: Any) -> QuerySet[RoleChangeRequest]:
    """Approvers and role managers see every request; others the ones they filed."""
    queryset = RoleChangeRequest.objects.select_related(
        "employee", "role", "requested_by", "decided_by"
    )
    if access.has_permission(actor, ROLE_REQUEST_APPROVE) or access.has_permission(
        actor, ROLE_MANAGE
    ):
        return queryset
    return queryset.filter(requested_by_id=actor.pk)


def get_request_for(actor: Any, request_id: int) -> RoleChangeRequest:
    found = restrict(actor).filter(pk=request_id).first()
    if found is None:
        raise NotFound(_("No role-change request has this id."), code="role_request_not_found")
    return found


def list_requests_for(actor: Any, status: str | None = None) -> QuerySet[RoleChangeRequest]:
    queryset = restrict(actor)
    if status:
        queryset = queryset.filter(status=status)
    return queryset


# --- writes ------------------------------------------------------------------------------------


def _params(request: RoleChangeRequest, **extra: Any) -> dict[str, Any]:
    return {"request": request.pk, "kind": request.kind, "role": request.role.code, **extra}


def _clean_reason(value: str, field: str, *, required: bool) -> str:
    value = (value or "").strip()
    if (required and not value) or len(value) > MAX_REASON:
        raise ValidationFailed(
            field_errors={field: [_("A reason of 1 to 500 characters is required.")]}
            if required
            else {field: [_("At most 500 characters.")]}
        )
    if CONTROL_CHARACTERS.search(value):
        raise ValidationFailed(field_errors={field: [_("Control characters are not allowed.")]})
    return value


def file_role_request(
    *,
    actor: Any,
    employee: Employee,
    role_code: str,
    kind: str,
    expires_at: datetime | None = None,
    justification: str = "",
) -> RoleChangeRequest:
    """Ask for a role to be granted to (or revoked from) an existing employee."""
    errors: dict[str, list[str]] = {}
    role = Role.objects.filter(code=(role_code or "").strip()).first()
    if role is None:
        errors["role"] = [_("No role has this code.")]
    if kind not in RoleRequestKind.values:
        errors["kind"] = [_("Choose grant or revoke.")]
    if kind == RoleRequestKind.REVOKE:
        expires_at = None
    if expires_at is not None and expires_at <= clock.now():
        errors["expires_at"] = [_("The expiry must be in the future.")]
    try:
        justification = _clean_reason(justification, "justification", required=False)
    except ValidationFailed as error:
        errors.update(error.field_errors)
    if errors:
        raise ValidationFailed(field_errors=errors)
    assert role is not None
    if not may_file(actor, employee):
        raise PermissionDenied(
            _(
                "Only someone who may grant roles, or the head of the employee's department, "
                "can file a role-change request."
            ),
            code="not_allowed_to_request",
        )
    if not employee.is_active:
        raise Conflict(_("The employee is not active."), code="employee_not_active")
    with transaction.atomic():
        held = RoleGrant.objects.in_force().filter(employee_id=employee.pk, role=role).exists()
        if kind == RoleRequestKind.GRANT and held:
            raise Conflict(_("The employee already holds this role."), code="role_already_granted")
        if kind == RoleRequestKind.REVOKE and not held:
            raise Conflict(_("The employee does not hold this role."), code="grant_not_found")
        now = clock.now()
        try:
            with transaction.atomic():
                request = RoleChangeRequest.objects.create(
                    employee=employee,
                    role=role,
                    kind=kind,
                    expires_at=expires_at,
                    justification=justification,
                    requested_by=actor,
                    created_at=now,
                    updated_at=now,
                )
        except IntegrityError:
            raise Conflict(
                _("An open request for this change already exists."),
                code="role_request_already_open",
            ) from None
        params = _params(request)
        if justification:
            params["justification"] = justification
        record(
            actions.ROLE_REQUEST_CREATE,
            actor=actor,
            target=employee,
            params=params,
            changes={"expires_at": [None, expires_at]} if expires_at else {},
        )
    return request


def _locked_open(request: RoleChangeRequest) -> RoleChangeRequest:
    """The request locked while still submitted, with what the answer shows loaded."""
    return decisions.lock_in_state(
        RoleChangeRequest.objects.select_related("employee", "role", "requested_by"),
        request,
        (RoleRequestStatus.SUBMITTED,),
    )


def _check_four_eyes(request: RoleChangeRequest, actor: Any) -> None:
    decisions.refuse_own_request(request, actor)
    if request.employee_id == actor.pk:
        raise PermissionDenied(
            _("Four eyes: you cannot approve a change of your own roles."),
            code="four_eyes_own_roles",
        )
    if request.kind == RoleRequestKind.GRANT:
        decisions.refuse_roles_not_held(actor, [request.role.code])


def _close(request: RoleChangeRequest, *, actor: Any, to: str, reason: str = "") -> None:
    before = decisions.mark_decided(request, actor=actor, to=to, reason=reason)
    action = {
        RoleRequestStatus.APPROVED: actions.ROLE_REQUEST_APPROVE,
        RoleRequestStatus.REJECTED: actions.ROLE_REQUEST_REJECT,
        RoleRequestStatus.WITHDRAWN: actions.ROLE_REQUEST_WITHDRAW,
    }[to]
    record(
        action,
        actor=actor,
        target=request.employee,
        params=_params(request, **({"reason": reason} if reason else {})),
        changes={"status": [before, to]},
    )


def approve_role_request(request: RoleChangeRequest, *, actor: Any) -> RoleChangeRequest:
    """Apply the change with the approver as actor; a SoD conflict refuses it, changing nothing."""
    access.require(actor, ROLE_REQUEST_APPROVE)
    with transaction.atomic():
        request = _locked_open(request)
        _check_four_eyes(request, actor)
        employee = request.employee
        if not employee.is_active:
            raise Conflict(_("The employee is not active."), code="employee_not_active")
        via = {"via": "role_request", "request": request.pk}
        if request.kind == RoleRequestKind.GRANT:
            if request.expires_at is not None and request.expires_at <= clock.now():
                raise Conflict(
                    _("The requested expiry has passed; file a new request."),
                    code="role_request_expired",
                )
            access.grant_role(
                employee,
                request.role.code,
                actor=actor,
                expires_at=request.expires_at,
                check_permission=False,
                audit_params=via,
            )
        else:
            access.revoke_role(
                employee, request.role.code, actor=actor, check_permission=False, audit_params=via
            )
        _close(request, actor=actor, to=RoleRequestStatus.APPROVED)
    return request


def reject_role_request(
    request: RoleChangeRequest, *, actor: Any, reason: str
) -> RoleChangeRequest:
    access.require(actor, ROLE_REQUEST_APPROVE)
    reason = _clean_reason(reason, "reason", required=True)
    with transaction.atomic():
        request = _locked_open(request)
        _close(request, actor=actor, to=RoleRequestStatus.REJECTED, reason=reason)
    return request


def withdraw_role_request(request: RoleChangeRequest, *, actor: Any) -> RoleChangeRequest:
    if request.requested_by_id != actor.pk:
        raise PermissionDenied(
            _("Only the requester can withdraw this request."), code="not_requester"
        )
    with transaction.atomic():
        request = _locked_open(request)
        _close(request, actor=actor, to=RoleRequestStatus.WITHDRAWN)
    return request
