"""Exports of what the viewer may see, as CSV or .xlsx, masked unless they may see personal data.

Customers go through gonghao.crm.exports (the existing, audited customer export); contacts,
follow-ups and opportunities are exported here from the same scoped queries, each export
audited with its filter and row count.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gonghao.access.scopes import reach_of
from gonghao.access.services import has_permission, require
from gonghao.audit.services import record
from gonghao.core.errors import PermissionDenied, ValidationFailed
from gonghao.crm import permissions as perms
from gonghao.crm.exports import _audited_filter, export_rows
from gonghao.crm.masking import mask
from gonghao.crm.queries import CustomerFilter, of_customers_for

from . import audit_actions
from .writers import write_csv, write_xlsx

EXPORT_KINDS = ("customers", "contacts", "interactions", "opportunities")
FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"
CONTACT_SENSITIVE = ("phone", "email", "wechat")


@dataclass
class Export:
    kind: str
    file_format: str
    header: list[str]
    rows: list[list[str]]

    @property
    def file_name(self) -> str:
        return f"{self.kind}.{self.file_format}"

    @property
    def content_type(self) -> str:
        return XLSX_TYPE if self.file_format == "xlsx" else CSV_TYPE

    def chunks(self):
        if self.file_format == "xlsx":
            yield write_xlsx(self.header, self.rows, sheet=self.kind)
        else:
            yield from write_csv(self.header, self.rows)

    def content(self) -> bytes:
        return b"".join(self.chunks())


def _check(kind: str, file_format: str) -> None:
    problems = {}
    if kind not in EXPORT_KINDS:
        problems["kind"] = [_("Choose one of: %(v)s") % {"v": ", ".join(EXPORT_KINDS)}]
    if file_format not in FORMATS:
        problems["format"] = [_("Choose one of: %(v)s") % {"v": ", ".join(FORMATS)}]
    if problems:
        raise ValidationFailed(field_errors=problems)


def export_table(
    actor: Any,
    kind: str,
    filters: CustomerFilter,
    file_format: str,
    progress: Callable[[int], None] | None = None,
) -> Export:
    """The rows of `kind` the actor may export, audited (filter, count, format)."""
    _check(kind, file_format)
    if kind == "customers":
        header, rows = export_rows(actor, filters, file_format=file_format, progress=progress)
        return Export(kind, file_format, header, rows)
    require(actor, perms.EXPORT)
    builder = {
        "contacts": _contacts,
        "interactions": _interactions,
        "opportunities": _opportunities,
    }[kind]
    header, rows, clear = builder(actor, filters, progress)
    with transaction.atomic():
        record(
            audit_actions.EXPORT,
            actor=actor,
            target_type=f"crm.{kind.rstrip('s')}",
            params={"count": len(rows), "kind": kind, "format": file_format},
            changes={
                "filter": [None, _audited_filter(filters)],
                "clear_personal_data": [None, clear],
            },
        )
    return Export(kind, file_format, header, rows)


def _tick(progress, rows) -> None:
    if progress is not None and len(rows) % 5000 == 0:
        progress(len(rows))


def _of_customers(actor: Any, filters: CustomerFilter):
    # Contacts and follow-ups are personal data of the customers' people: only for those who
    # may open the customers too (marketing exports customers, masked, and nothing more).
    if not has_permission(actor, perms.VIEW):
        raise PermissionDenied()
    return of_customers_for(actor, filters, permission=perms.EXPORT)


CONTACT_COLUMNS = (
    gettext_lazy("Contact ID"),
    gettext_lazy("Customer ID"),
    gettext_lazy("Customer"),
    gettext_lazy("Name"),
    gettext_lazy("Title"),
    gettext_lazy("Phone"),
    gettext_lazy("E-mail"),
    gettext_lazy("WeChat ID"),
    gettext_lazy("Primary"),
)


def _contacts(actor, filters, progress):
    from gonghao.crm.models import Contact

    of_customers = _of_customers(actor, filters)
    sensitive = reach_of(actor, perms.VIEW_SENSITIVE)
    contacts = (
        Contact.objects.filter(of_customers, deleted_at__isnull=True)
        .select_related("customer")
        .order_by("customer_id", "-is_primary", "name", "id")
    )
    rows, clear = [], False
    for contact in contacts.iterator(chunk_size=2000):
        customer = contact.customer
        in_clear = sensitive.covers(customer.owner_id, customer.owner_department_id)
        clear = clear or in_clear
        shown = {
            name: getattr(contact, name) if in_clear else mask(name, getattr(contact, name))
            for name in CONTACT_SENSITIVE
        }
        rows.append(
            [
                str(contact.pk),
                str(customer.pk),
                customer.name,
                contact.name,
                contact.title,
                shown["phone"],
                shown["email"],
                shown["wechat"],
                _("yes") if contact.is_primary else "",
            ]
        )
        _tick(progress, rows)
    return [str(c) for c in CONTACT_COLUMNS], rows, clear


INTERACTION_COLUMNS = (
    gettext_lazy("ID"),
    gettext_lazy("Customer ID"),
    gettext_lazy("Customer"),
    gettext_lazy("Time"),
    gettext_lazy("Type"),
    gettext_lazy("Employee 工号"),
    gettext_lazy("Employee"),
    gettext_lazy("Contact"),
    gettext_lazy("Content"),
    gettext_lazy("Outcome"),
    gettext_lazy("Next follow-up"),
)


def _interactions(actor, filters, progress):
    from gonghao.crm.models import Interaction

    interactions = (
        Interaction.objects.filter(_of_customers(actor, filters))
        .select_related("customer", "employee", "contact")
        .order_by("customer_id", "occurred_at", "id")
    )
    rows: list[list[str]] = []
    for item in interactions.iterator(chunk_size=2000):
        rows.append(
            [
                str(item.pk),
                str(item.customer_id),
                item.customer.name,
                item.occurred_at.isoformat(timespec="minutes"),
                str(item.get_kind_display()),
                item.employee.employee_id,
                item.employee.name,
                item.contact.name if item.contact_id else "",
                item.content,
                item.outcome,
                item.next_follow_up.isoformat() if item.next_follow_up else "",
            ]
        )
        _tick(progress, rows)
    return [str(c) for c in INTERACTION_COLUMNS], rows, False


def _opportunities(actor, filters, progress):
    from gonghao.crm.opportunities import OpportunityFilter, hidden_for, opportunities_for

    queryset = opportunities_for(actor, OpportunityFilter(q=filters.q, owner_id=filters.owner_id))
    hidden = hidden_for(actor)
    columns = [
        ("id", _("ID")),
        ("name", _("Name")),
        ("customer_id", _("Customer ID")),
        ("customer", _("Customer")),
        ("amount", _("Amount")),
        ("currency", _("Currency")),
        ("stage", _("Stage")),
        ("probability", _("Probability (%)")),
        ("expected_close", _("Expected close date")),
        ("owner", _("Owner 工号")),
    ]
    columns = [(key, title) for key, title in columns if key not in hidden]
    rows: list[list[str]] = []
    for item in queryset.iterator(chunk_size=2000):
        values = {
            "id": item.pk,
            "name": item.name,
            "customer_id": item.customer_id,
            "customer": item.customer.name,
            "amount": item.amount,
            "currency": item.currency,
            "stage": str(item.stage),
            "probability": item.probability,
            "expected_close": item.expected_close.isoformat() if item.expected_close else "",
            "owner": item.owner.employee_id if item.owner_id else "",
        }
        rows.append(["" if values[k] is None else str(values[k]) for k, _t in columns])
        _tick(progress, rows)
    return [t for _k, t in columns], rows, False
