"""Exporting customers as CSV (UTF-8 with BOM, as Excel in China expects), audited."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from gonghao.access.scopes import reach_of
from gonghao.access.services import hidden_fields_for, require
from gonghao.audit.services import record
from gonghao.core.csv_export import render_csv as render_csv  # the API and pages stream it

from . import audit_actions
from . import permissions as perms
from .constants import SENSITIVE_FIELDS
from .masking import mask_phone
from .queries import CustomerFilter, customers_for, present

COLUMNS = (
    ("id", _("ID")),
    ("kind", _("Kind")),
    ("name", _("Name")),
    ("industry", _("Industry")),
    ("level", _("Level")),
    ("source", _("Source")),
    ("status", _("Status")),
    ("owner", _("Owner 工号")),
    ("phone", _("Phone")),
    ("email", _("E-mail")),
    ("id_number", _("ID number")),
    ("address", _("Address")),
    ("tags", _("Tags")),
    ("notes", _("Notes")),
    ("updated_at", _("Updated at")),
)


def _audited_filter(filters: CustomerFilter) -> dict[str, Any]:
    """The export's filter as the audit log keeps it: a phone number searched for is masked."""
    recorded = {k: v for k, v in asdict(filters).items() if v}
    if len(re.sub(r"\D", "", recorded.get("q", ""))) >= 7:
        recorded["q"] = mask_phone(recorded["q"].strip())
    return recorded


def export_rows(
    actor: Any,
    filters: CustomerFilter,
    *,
    file_format: str = "csv",
    progress: Callable[[int], None] | None = None,
) -> tuple[list[str], list[list[Any]]]:
    """Header and rows the actor may export: scope, hidden fields, masking unless allowed.

    Cells are as stored: the writers (`render_csv`, transfer's xlsx) neutralise formulas."""
    require(actor, perms.EXPORT)
    hidden = {h.split(".", 1)[1] for h in hidden_fields_for(actor, perms.EXPORT)}
    shown = [(key, title) for key, title in COLUMNS if key not in hidden]
    # Personal data in clear only for rows inside the reach of customer.view_sensitive, as
    # for a reveal: exporting must not widen that scope to the (often larger) export scope.
    sensitive = reach_of(actor, perms.VIEW_SENSITIVE)
    clear = False
    rows: list[list[Any]] = []
    for customer in customers_for(actor, filters, permission=perms.EXPORT).iterator(
        chunk_size=2000
    ):
        in_clear = sensitive.covers(customer.owner_id, customer.owner_department_id)
        clear = clear or in_clear
        reveal = SENSITIVE_FIELDS if in_clear else ()
        data = present(customer, actor, permission=perms.EXPORT, reveal=reveal)
        data["id"] = customer.pk
        data["owner"] = customer.owner.employee_id if customer.owner_id else ""
        data["updated_at"] = customer.updated_at.isoformat(timespec="seconds")
        rows.append([data[key] for key, _title in shown])
        if progress is not None and len(rows) % 5000 == 0:
            progress(len(rows))
    with transaction.atomic():
        record(
            audit_actions.CUSTOMER_EXPORT,
            actor=actor,
            target_type="crm.customer",
            params={"count": len(rows)},
            changes={
                "filter": [None, _audited_filter(filters)],
                "clear_personal_data": [None, clear],
                "format": [None, file_format],
            },
        )
    return [str(title) for _key, title in shown], rows
