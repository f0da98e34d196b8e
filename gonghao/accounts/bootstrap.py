"""Creating administrators from the command line, before anyone can log in."""

from __future__ import annotations

from django.db import transaction

from gonghao.access.services import grant_role

from .models import Employee
from .services import create_employee

BOOTSTRAP_ROLES = ("system_admin", "security_admin", "auditor")


def create_administrator(
    *, name: str, role: str = "system_admin", password: str | None = None
) -> tuple[Employee, str | None]:
    """An active employee holding `role`, created by the system (audited as such).

    With no password a one-time password is generated, returned, and must be changed at
    first login.
    """
    if role not in BOOTSTRAP_ROLES:
        raise ValueError(f"role must be one of {', '.join(BOOTSTRAP_ROLES)}")
    with transaction.atomic():
        employee, one_time = create_employee(
            actor=None, name=name, password=password, purpose="bootstrap", check_permission=False
        )
        grant_role(employee, role, actor=None, check_permission=False)
    return employee, one_time
