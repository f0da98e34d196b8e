"""Who may do what: effective permissions and scopes from role grants, checks, grant changes,
segregation of duties, and the "why" explainer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import DateTimeField, IntegerField
from django.utils.translation import gettext as _

from gonghao.audit.services import diff, record
from gonghao.core import clock
from gonghao.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gonghao.core.prepared import Bound, PreparedQuery
from gonghao.core.text import has_control_characters

from . import audit_actions, login_rules
from .catalogue import HIDEABLE_FIELDS, PERMISSIONS
from .models import DataScope, Role, RoleGrant, SodRule

_CACHE_ATTR = "_gonghao_grants"
_REQUEST_MEMO_ATTR = "_gonghao_request_memo"


class _Access:
    """An employee's grants in force and what follows from them alone (permissions, hidden
    fields), worked out once and kept on the employee instance."""

    __slots__ = ("grants", "hidden", "permissions")

    def __init__(self, grants: list[RoleGrant]) -> None:
        self.grants = grants
        codes: set[str] = set()
        for grant in grants:
            codes.update(grant.role.permissions)
        self.permissions = frozenset(codes)
        self.hidden: dict[str, frozenset[str]] = {}


# Without who granted each role: every request reads this, only `explain` shows that. Compiled
# once per connection (core/prepared.py).
GRANTS_IN_FORCE = PreparedQuery(
    lambda: (
        RoleGrant.objects.in_force(now=Bound("now", DateTimeField()))
        .filter(employee_id=Bound("employee_id", IntegerField()))
        .select_related("role")
        .order_by("role__code")
    )
)


def _access(employee: Any) -> _Access | None:
    """The employee's grants in force, with roles; cached on the instance for one request."""
    if employee is None or not getattr(employee, "pk", None) or not employee.is_active:
        return None
    cached = getattr(employee, _CACHE_ATTR, None)
    if cached is None:
        cached = _Access(GRANTS_IN_FORCE.all(now=clock.now(), employee_id=employee.pk))
        setattr(employee, _CACHE_ATTR, cached)
    return cached


def _grants_in_force(employee: Any) -> list[RoleGrant]:
    access = _access(employee)
    return access.grants if access is not None else []


def bind_to_request(employee: Any) -> Any:
    """Mark an employee instance as loaded for one request (a session's or a token's), so
    answers derived from the organisation (data scopes) are worked out once per request and
    kept on it (`request_memo`). Instances held longer never keep them."""
    setattr(employee, _REQUEST_MEMO_ATTR, {})
    return employee


def request_memo(employee: Any) -> dict[Any, Any] | None:
    """The per-request memo of an employee bound to a request, else None."""
    return getattr(employee, _REQUEST_MEMO_ATTR, None)


def forget_cached_permissions(employee: Any) -> None:
    if employee is not None and hasattr(employee, _CACHE_ATTR):
        delattr(employee, _CACHE_ATTR)
    if request_memo(employee) is not None:
        setattr(employee, _REQUEST_MEMO_ATTR, {})


def roles_of(employee: Any) -> list[Role]:
    return [grant.role for grant in _grants_in_force(employee)]


def permissions_of(employee: Any) -> frozenset[str]:
    access = _access(employee)
    return access.permissions if access is not None else frozenset()


def _known(code: str) -> str:
    if code not in PERMISSIONS:
        raise ValueError(f"unknown permission {code!r}")
    return code


def has_permission(employee: Any, code: str) -> bool:
    return _known(code) in permissions_of(employee)


def require(employee: Any, code: str) -> None:
    if not has_permission(employee, code):
        raise PermissionDenied()


def scopes_for(employee: Any, code: str) -> set[str]:
    """The data scopes in which the employee holds `code`: one per role that grants it."""
    _known(code)
    return {role.data_scope for role in roles_of(employee) if code in role.permissions}


def hidden_fields_for(employee: Any, code: str) -> frozenset[str]:
    """Fields hidden from the employee when acting under `code`.

    A field is hidden only when every role granting `code` hides it: one role that shows it
    is enough to see it.
    """
    access = _access(employee)
    if access is None:
        return frozenset()
    hidden = access.hidden.get(code)
    if hidden is None:
        roles = [grant.role for grant in access.grants if code in grant.role.permissions]
        found = set(roles[0].hidden_fields) if roles else set()
        for role in roles[1:]:
            found &= set(role.hidden_fields)
        hidden = access.hidden[code] = frozenset(found)
    return hidden


# --- the "why" explainer -----------------------------------------------------------------------


@dataclass(frozen=True)
class Reason:
    role: Role
    grant: RoleGrant


def explain(employee: Any, code: str) -> list[Reason]:
    """Every grant in force that gives the employee `code` (empty: they cannot)."""
    _known(code)
    if employee is None or not getattr(employee, "pk", None) or not employee.is_active:
        return []
    grants = (
        RoleGrant.objects.in_force()
        .filter(employee_id=employee.pk)
        .select_related("role", "granted_by")
        .order_by("role__code")
    )
    return [Reason(grant.role, grant) for grant in grants if code in grant.role.permissions]


def who_can(code: str) -> list[RoleGrant]:
    """The grants in force, of active employees, that give `code`."""
    _known(code)
    role_ids = [role.pk for role in Role.objects.all() if code in role.permissions]
    return list(
        RoleGrant.objects.in_force()
        .filter(role_id__in=role_ids, employee__status="active")
        .select_related("employee", "role", "granted_by")
        .order_by("employee__employee_id", "role__code")
    )


# --- segregation of duties ---------------------------------------------------------------------


def _holds(side: str, role_codes: set[str], permissions: set[str]) -> bool:
    kind, _sep, value = side.partition(":")
    if kind == "role":
        return value in role_codes
    if kind == "perm":
        return value in permissions
    return False


def sod_conflicts(role_codes: set[str], permissions: set[str]) -> list[SodRule]:
    return [
        rule
        for rule in SodRule.objects.filter(is_active=True)
        if _holds(rule.left, role_codes, permissions)
        and _holds(rule.right, role_codes, permissions)
    ]


def _refuse_conflicts(conflicts: list[SodRule]) -> None:
    if conflicts:
        rule = conflicts[0]
        raise Conflict(
            _(
                "Segregation of duties: %(left)s and %(right)s cannot be held by one employee "
                "(rule %(rule)s)."
            )
            % {"left": rule.left, "right": rule.right, "rule": rule.code},
            code="sod_conflict",
            details={"rule": rule.code},
        )


# --- grants ------------------------------------------------------------------------------------


def get_role(code: str) -> Role:
    role = Role.objects.filter(code=code).first()
    if role is None:
        raise NotFound(_("No role has this code."), code="role_not_found")
    return role


def _needs_approval(role: Role, kind: str) -> Conflict:
    if kind == "grant":
        message = _(
            "Granting role %(role)s needs a second person's approval: file a role-change "
            "request instead (Role requests page, or POST /api/v1/role-requests)."
        )
    else:
        message = _(
            "Revoking role %(role)s needs a second person's approval: file a role-change "
            "request instead (Role requests page, or POST /api/v1/role-requests)."
        )
    return Conflict(
        message % {"role": role.code},
        code="role_change_needs_approval",
        details={"role": role.code, "kind": kind, "request_path": "/api/v1/role-requests"},
    )


def grant_role(
    employee: Any,
    role_code: str,
    *,
    actor: Any,
    expires_at: datetime | None = None,
    check_permission: bool = True,
    audit_params: dict[str, Any] | None = None,
) -> RoleGrant:
    """Give a role. `check_permission=False` is for paths that carry their own authority:
    bootstrapping from the command line and approved workflows (onboarding, role-change
    requests), which name themselves in `audit_params` ("via")."""
    if check_permission:
        require(actor, "role.manage")
    role = get_role(role_code)
    if check_permission and role.grant_needs_approval:
        raise _needs_approval(role, "grant")
    if expires_at is not None and expires_at <= clock.now():
        raise ValidationFailed(
            field_errors={"expires_at": [_("The expiry must be in the future.")]}
        )
    with transaction.atomic():
        held = list(
            RoleGrant.objects.in_force().select_for_update().filter(employee_id=employee.pk)
        )
        if any(grant.role_id == role.pk for grant in held):
            raise Conflict(_("The employee already holds this role."), code="role_already_granted")
        held_roles = list(Role.objects.filter(pk__in=[g.role_id for g in held]))
        codes = {r.code for r in held_roles} | {role.code}
        permissions = set(role.permissions).union(*(set(r.permissions) for r in held_roles))
        _refuse_conflicts(sod_conflicts(codes, permissions))
        # A revoked grant keeps its row for history; an expired one is closed before the new one.
        RoleGrant.objects.filter(
            employee_id=employee.pk, role=role, revoked_at__isnull=True
        ).update(revoked_at=clock.now())
        grant = RoleGrant.objects.create(
            employee=employee,
            role=role,
            granted_by=actor,
            granted_at=clock.now(),
            expires_at=expires_at,
        )
        record(
            audit_actions.ROLE_GRANT,
            actor=actor,
            target=employee,
            params={**(audit_params or {}), "role": role.code},
            changes={"roles": [None, role.code], "expires_at": [None, expires_at]},
        )
    forget_cached_permissions(employee)
    return grant


def revoke_role(
    employee: Any,
    role_code: str,
    *,
    actor: Any,
    check_permission: bool = True,
    audit_params: dict[str, Any] | None = None,
) -> RoleGrant:
    """Take a role back. `check_permission=False` is for approved workflows (access reviews,
    role-change requests) that name themselves in `audit_params` ("via")."""
    if check_permission:
        require(actor, "role.manage")
    role = get_role(role_code)
    if check_permission and role.revoke_needs_approval:
        raise _needs_approval(role, "revoke")
    with transaction.atomic():
        grant = (
            RoleGrant.objects.in_force()
            .select_for_update()
            .filter(employee_id=employee.pk, role=role)
            .first()
        )
        if grant is None:
            raise NotFound(_("The employee does not hold this role."), code="grant_not_found")
        grant.revoked_at = clock.now()
        grant.revoked_by = actor
        grant.save(update_fields=["revoked_at", "revoked_by"])
        record(
            audit_actions.ROLE_REVOKE,
            actor=actor,
            target=employee,
            params={**(audit_params or {}), "role": role.code},
            changes={"roles": [role.code, None]},
        )
    forget_cached_permissions(employee)
    return grant


# --- roles -------------------------------------------------------------------------------------

_UNSET: Any = object()


def _role_snapshot(role: Role) -> dict[str, Any]:
    return {
        "name_zh": role.name_zh,
        "name_en": role.name_en,
        "permissions": sorted(role.permissions),
        "data_scope": role.data_scope,
        "hidden_fields": sorted(role.hidden_fields),
        "grant_needs_approval": role.grant_needs_approval,
        "revoke_needs_approval": role.revoke_needs_approval,
        "allowed_networks": list(role.allowed_networks),
        "allowed_hours": login_rules.format_hours(role),
    }


def _parsed_hours(value: tuple[Any, Any] | str) -> tuple[Any, Any]:
    if isinstance(value, str):
        return login_rules.parse_hours(value)
    return login_rules.clean_hours(*value)


def update_role(
    role: Role,
    *,
    actor: Any,
    name_zh: str = _UNSET,
    name_en: str = _UNSET,
    permissions: list[str] = _UNSET,
    data_scope: str = _UNSET,
    hidden_fields: list[str] = _UNSET,
    grant_needs_approval: bool = _UNSET,
    revoke_needs_approval: bool = _UNSET,
    allowed_networks: list[str] | str = _UNSET,
    allowed_hours: tuple[Any, Any] | str = _UNSET,
) -> Role:
    """Edit a role; refused when it would put a holder in breach of a SoD rule.

    `allowed_networks` (CIDR list) and `allowed_hours` ((start, end) or "HH:MM-HH:MM", empty
    for none) are the optional login restrictions (gonghao.access.login_rules)."""
    require(actor, "role.manage")
    errors: dict[str, list[str]] = {}
    try:
        if allowed_networks is not _UNSET:
            login_rules.clean_networks(allowed_networks)
    except ValidationFailed as error:
        errors.update(error.field_errors)
    try:
        if allowed_hours is not _UNSET:
            _parsed_hours(allowed_hours)
    except ValidationFailed as error:
        errors.update(error.field_errors)
    if permissions is not _UNSET:
        unknown = sorted(set(permissions) - set(PERMISSIONS))
        if unknown:
            errors["permissions"] = [
                _("Unknown permissions: %(codes)s") % {"codes": ", ".join(unknown)}
            ]
    if hidden_fields is not _UNSET:
        unknown = sorted(set(hidden_fields) - set(HIDEABLE_FIELDS))
        if unknown:
            errors["hidden_fields"] = [
                _("Unknown fields: %(codes)s") % {"codes": ", ".join(unknown)}
            ]
    if data_scope is not _UNSET and data_scope not in DataScope.values:
        errors["data_scope"] = [_("Unknown data scope.")]
    for field, value in (("name_zh", name_zh), ("name_en", name_en)):
        if value is not _UNSET and not (value or "").strip():
            errors[field] = [_("A name is required.")]
        elif value is not _UNSET and has_control_characters(value):
            errors[field] = [_("Control characters are not allowed.")]
    if errors:
        raise ValidationFailed(field_errors=errors)
    with transaction.atomic():
        role = Role.objects.select_for_update().get(pk=role.pk)
        before = _role_snapshot(role)
        if name_zh is not _UNSET:
            role.name_zh = name_zh.strip()
        if name_en is not _UNSET:
            role.name_en = name_en.strip()
        if permissions is not _UNSET:
            role.permissions = sorted(set(permissions))
        if data_scope is not _UNSET:
            role.data_scope = data_scope
        if hidden_fields is not _UNSET:
            role.hidden_fields = sorted(set(hidden_fields))
        if grant_needs_approval is not _UNSET:
            role.grant_needs_approval = bool(grant_needs_approval)
        if revoke_needs_approval is not _UNSET:
            role.revoke_needs_approval = bool(revoke_needs_approval)
        if allowed_networks is not _UNSET:
            role.allowed_networks = login_rules.clean_networks(allowed_networks)
        if allowed_hours is not _UNSET:
            role.allowed_hours_start, role.allowed_hours_end = _parsed_hours(allowed_hours)
        changes = diff(before, _role_snapshot(role))
        if not changes:
            return role
        role.save()
        if "permissions" in changes:
            _check_holders_after_role_change(role)
        record(audit_actions.ROLE_UPDATE, actor=actor, target=role, changes=changes)
    return role


def _check_holders_after_role_change(role: Role) -> None:
    holders = RoleGrant.objects.in_force().filter(role=role).values_list("employee_id", flat=True)
    for employee_id in set(holders):
        roles = [
            g.role
            for g in RoleGrant.objects.in_force()
            .filter(employee_id=employee_id)
            .select_related("role")
        ]
        codes = {r.code for r in roles}
        permissions = set().union(*(set(r.permissions) for r in roles))
        _refuse_conflicts(sod_conflicts(codes, permissions))
