"""The permission catalogue: every permission code the product checks, with its label."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Permission:
    code: str
    label: Promise


PERMISSIONS: dict[str, Permission] = {
    p.code: p
    for p in (
        Permission("employee.view", _("View employees")),
        Permission("employee.manage", _("Create and change employees")),
        Permission("org.manage", _("Manage departments and positions")),
        Permission("role.manage", _("Grant and revoke roles")),
        Permission("token.manage", _("Revoke other employees' API tokens")),
        Permission("audit.view", _("Read the audit log")),
        Permission("audit.verify", _("Verify the audit chain")),
    )
}


def label(code: str) -> str:
    permission = PERMISSIONS.get(code)
    return str(permission.label) if permission else code
