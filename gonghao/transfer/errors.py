"""Row-level import problems: stored as codes and parameters, read in the viewer's language."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

MESSAGES = {
    "missing_column": _("The required column “%(title)s” is missing."),
    "unknown_column": _("The column “%(title)s” is not one this import knows."),
    "duplicate_column": _("The column “%(title)s” appears twice."),
    "required": _("This value is required."),
    "no_rows": _("The file has column titles but no rows."),
    "too_long": _("At most %(limit)s characters."),
    "control_characters": _("Control characters are not allowed."),
    "formula": _(
        "The value starts with =, +, - or @ and could run as a spreadsheet formula; "
        "remove that sign."
    ),
    "invalid_phone": _("“%(value)s” is not a valid phone number."),
    "invalid_email": _("“%(value)s” is not a valid e-mail address."),
    "invalid_id_number": _("Not a valid ID number (18 characters with check digit)."),
    "invalid_choice": _("“%(value)s” is not one of: %(allowed)s."),
    "invalid_employee_id": _("“%(value)s” is not a valid 工号."),
    "unknown_employee": _("No employee has the 工号 %(value)s."),
    "inactive_employee": _("The employee %(value)s is not active."),
    "owner_out_of_scope": _("You cannot give a customer to %(value)s: outside your scope."),
    "duplicate_in_file": _("The same customer (name and phone) is already in row %(first)s."),
    "duplicate_existing": _("A customer with this name and phone already exists (ID %(id)s)."),
    "unknown_customer": _("No customer with ID %(value)s that you may edit."),
    "primary_taken": _("This customer already has a primary contact."),
    "invalid_boolean": _("“%(value)s” is not yes/no (1/0, 是/否)."),
    "unknown_department": _("No active department has the code %(value)s."),
    "unknown_position": _("No active position has the code %(value)s."),
    "unknown_role": _("No role has the code %(value)s."),
    "roles_not_allowed": _("Granting roles needs the role-management permission."),
    "invalid_date": _("“%(value)s” is not a date (YYYY-MM-DD)."),
    "no_delivery": _("An e-mail or a phone is needed to send the initial password."),
    "invalid_value": _("%(detail)s"),
    "commit_failed": _("The import stopped at this row: %(detail)s"),
}


def error(row: int, column: str, code: str, **params: Any) -> dict[str, Any]:
    return {"row": row, "column": column, "code": code, "params": params}


def message_of(entry: dict[str, Any]) -> str:
    template = MESSAGES.get(entry["code"], MESSAGES["invalid_value"])
    params = {"detail": "", **entry.get("params", {})}
    try:
        return str(template) % params
    except (KeyError, TypeError, ValueError):
        return str(template)


def presented(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Errors as the API and the pages show them: with a message in the active language."""
    return [
        {"row": e["row"], "column": e["column"], "code": e["code"], "message": message_of(e)}
        for e in entries
    ]
