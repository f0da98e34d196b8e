"""Who may do what: effective permissions from role grants, checks, and grant changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from gonghao.audit.services import record
from gonghao.core import clock
from gonghao.core.errors import Conflict, NotFound, PermissionDenied

from . import audit_actions
from .catalogue import PERMISSIONS
from .models import Role, RoleGrant

_CACHE_ATTR = "_gonghao_permissions"


def roles_of(employee: Any) -> list[Role]:
    if employee is None or not getattr(employee, "pk", None):
        return []
    return [
        g.role
        for g in RoleGrant.objects.in_force().filter(employee=employee).select_related("role")
    ]


def permissions_of(employee: Any) -> frozenset[str]:
    """Every permission code the employee's grants in force give; cached on the instance."""
    if employee is None or not getattr(employee, "pk", None) or not employee.is_active:
        return frozenset()
    cached = getattr(employee, _CACHE_ATTR, None)
    if cached is None:
        codes: set[str] = set()
        for role in roles_of(employee):
            codes.update(role.permissions)
        cached = frozenset(codes)
        setattr(employee, _CACHE_ATTR, cached)
    return cached


def forget_cached_permissions(employee: Any) -> None:
    if hasattr(employee, _CACHE_ATTR):
        delattr(employee, _CACHE_ATTR)


def has_permission(employee: Any, code: str) -> bool:
    if code not in PERMISSIONS:
        raise ValueError(f"unknown permission {code!r}")
    return code in permissions_of(employee)


def require(employee: Any, code: str) -> None:
    if not has_permission(employee, code):
        raise PermissionDenied()


def get_role(code: str) -> Role:
    role = Role.objects.filter(code=code).first()
    if role is None:
        raise NotFound(code="role_not_found")
    return role


def grant_role(
    employee: Any,
    role_code: str,
    *,
    actor: Any,
    expires_at: datetime | None = None,
    check_permission: bool = True,
) -> RoleGrant:
    """Give a role. `check_permission=False` only for bootstrapping from the command line."""
    if check_permission:
        require(actor, "role.manage")
    role = get_role(role_code)
    with transaction.atomic():
        if RoleGrant.objects.filter(employee=employee, role=role, revoked_at__isnull=True).exists():
            raise Conflict(code="role_already_granted")
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
            params={"role": role.code},
            changes={"roles": [None, role.code], "expires_at": [None, expires_at]},
        )
    forget_cached_permissions(employee)
    return grant


def revoke_role(employee: Any, role_code: str, *, actor: Any) -> RoleGrant:
    require(actor, "role.manage")
    role = get_role(role_code)
    with transaction.atomic():
        grant = (
            RoleGrant.objects.select_for_update()
            .filter(employee=employee, role=role, revoked_at__isnull=True)
            .first()
        )
        if grant is None:
            raise NotFound(code="grant_not_found")
        grant.revoked_at = clock.now()
        grant.revoked_by = actor
        grant.save(update_fields=["revoked_at", "revoked_by"])
        record(
            audit_actions.ROLE_REVOKE,
            actor=actor,
            target=employee,
            params={"role": role.code},
            changes={"roles": [role.code, None]},
        )
    forget_cached_permissions(employee)
    return grant
