"""Creating and changing departments and positions, audited."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from gonghao.access.services import require
from gonghao.audit.services import diff, record
from gonghao.core.errors import Conflict, NotFound, ValidationFailed

from . import audit_actions
from .models import Department, Position

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
_UNSET: Any = object()


def _clean_code(code: str) -> str:
    code = (code or "").strip()
    if not CODE_PATTERN.match(code):
        raise ValidationFailed(
            field_errors={
                "code": [
                    _(
                        "Use 1 to 32 letters, digits, '.', '_' or '-', starting with a letter "
                        "or digit."
                    )
                ]
            }
        )
    return code


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationFailed(
            field_errors={"name": [_("A name of 1 to 100 characters is required.")]}
        )
    # Cc: C0 and C1 controls and DEL, not only the characters below 32.
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        raise ValidationFailed(field_errors={"name": [_("The name contains control characters.")]})
    return name


def _department_snapshot(department: Department) -> dict[str, Any]:
    return {
        "code": department.code,
        "name": department.name,
        "parent": department.parent.code if department.parent_id else None,
        "head": department.head.employee_id if department.head_id else None,
        "is_active": department.is_active,
    }


def get_department(department_id: int) -> Department:
    department = (
        Department.objects.select_related("parent", "head").filter(pk=department_id).first()
    )
    if department is None:
        raise NotFound(code="department_not_found")
    return department


def create_department(
    *, actor: Any, code: str, name: str, parent: Department | None = None, head: Any = None
) -> Department:
    require(actor, "org.manage")
    code, name = _clean_code(code), _clean_name(name)
    with transaction.atomic():
        if Department.objects.filter(code__iexact=code).exists():
            raise Conflict(_("A department with this code already exists."), code="duplicate_code")
        department = Department.objects.create(code=code, name=name, parent=parent, head=head)
        record(
            audit_actions.DEPARTMENT_CREATE,
            actor=actor,
            target=department,
            changes=diff({}, _department_snapshot(department)),
        )
    return department


def update_department(
    department: Department,
    *,
    actor: Any,
    name: str = _UNSET,
    parent: Department | None = _UNSET,
    head: Any = _UNSET,
    is_active: bool = _UNSET,
) -> Department:
    require(actor, "org.manage")
    with transaction.atomic():
        department = Department.objects.select_for_update().get(pk=department.pk)
        before = _department_snapshot(department)
        if name is not _UNSET:
            department.name = _clean_name(name)
        if parent is not _UNSET:
            if parent is not None and (
                parent.pk == department.pk or parent.pk in department.descendant_ids()
            ):
                raise ValidationFailed(
                    field_errors={"parent": [_("A department cannot sit below itself.")]}
                )
            department.parent = parent
        if head is not _UNSET:
            department.head = head
        if is_active is not _UNSET:
            department.is_active = bool(is_active)
        changes = diff(before, _department_snapshot(department))
        if not changes:
            return department
        department.save()
        record(audit_actions.DEPARTMENT_UPDATE, actor=actor, target=department, changes=changes)
    return department


def _position_snapshot(position: Position) -> dict[str, Any]:
    return {"code": position.code, "name": position.name, "is_active": position.is_active}


def get_position(position_id: int) -> Position:
    position = Position.objects.filter(pk=position_id).first()
    if position is None:
        raise NotFound(code="position_not_found")
    return position


def create_position(*, actor: Any, code: str, name: str) -> Position:
    require(actor, "org.manage")
    code, name = _clean_code(code), _clean_name(name)
    with transaction.atomic():
        if Position.objects.filter(code__iexact=code).exists():
            raise Conflict(_("A position with this code already exists."), code="duplicate_code")
        position = Position.objects.create(code=code, name=name)
        record(
            audit_actions.POSITION_CREATE,
            actor=actor,
            target=position,
            changes=diff({}, _position_snapshot(position)),
        )
    return position


def update_position(
    position: Position, *, actor: Any, name: str = _UNSET, is_active: bool = _UNSET
) -> Position:
    require(actor, "org.manage")
    with transaction.atomic():
        position = Position.objects.select_for_update().get(pk=position.pk)
        before = _position_snapshot(position)
        if name is not _UNSET:
            position.name = _clean_name(name)
        if is_active is not _UNSET:
            position.is_active = bool(is_active)
        changes = diff(before, _position_snapshot(position))
        if not changes:
            return position
        position.save()
        record(audit_actions.POSITION_UPDATE, actor=actor, target=position, changes=changes)
    return position
