"""The permission catalogue and the fields a role may hide, filled by each app at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Permission:
    code: str
    label: Promise


@dataclass(frozen=True)
class HideableField:
    code: str  # "<record type>.<field>", e.g. "customer.address"
    label: Promise


PERMISSIONS: dict[str, Permission] = {}
HIDEABLE_FIELDS: dict[str, HideableField] = {}


def register_permission(code: str, label: Promise) -> str:
    PERMISSIONS[code] = Permission(code, label)
    return code


def register_hideable_field(code: str, label: Promise) -> str:
    HIDEABLE_FIELDS[code] = HideableField(code, label)
    return code


def sorted_permissions() -> list[Permission]:
    return sorted(PERMISSIONS.values(), key=lambda p: p.code)


def sorted_hideable_fields() -> list[HideableField]:
    return sorted(HIDEABLE_FIELDS.values(), key=lambda f: f.code)


def label(code: str) -> str:
    permission = PERMISSIONS.get(code)
    return str(permission.label) if permission else code


# Identity and administration permissions; the CRM registers its own.
for _code, _label in (
    ("employee.view", _("View employees")),
    ("employee.manage", _("Create and change employees")),
    ("org.manage", _("Manage departments and positions")),
    ("role.view", _("View roles, grants and who can do what")),
    ("role.manage", _("Grant and revoke roles, edit roles")),
    ("token.manage", _("Revoke other employees' API tokens")),
    ("audit.view", _("Read the audit log")),
    ("audit.verify", _("Verify the audit chain")),
):
    register_permission(_code, _label)
