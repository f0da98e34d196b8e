"""Shared by `gonghao import` and `gonghao export`: who acts, and progress on stderr."""

from __future__ import annotations

import os
import sys

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from gonghao.core import context


def acting_employee(raw: str | None):
    """The employee given by --as (or GONGHAO_AS); the command runs with their permissions."""
    from gonghao.accounts.services import InvalidEmployeeId, find_employee
    from gonghao.core.errors import NotFound

    raw = raw or os.environ.get("GONGHAO_AS", "")
    if not raw:
        raise CommandError(_("Say who is acting: --as 工号 (or set GONGHAO_AS)."))
    try:
        employee = find_employee(raw)
    except (InvalidEmployeeId, NotFound) as error:
        raise CommandError(str(error.message))
    if not employee.is_active:
        raise CommandError(_("The employee %(id)s is not active.") % {"id": employee.employee_id})
    context.set_actor(employee)
    return employee


def stderr_progress(label: str):
    last = {"shown": -1}

    def report(processed: int, total: int | None = None) -> None:
        if processed == last["shown"]:
            return
        last["shown"] = processed
        if total:
            sys.stderr.write(f"\r{label}: {processed}/{total} ({processed * 100 // total}%)")
        else:
            sys.stderr.write(f"\r{label}: {processed}")
        sys.stderr.flush()

    return report
