"""Customer operations: each checks permission and scope, writes, and audits in one transaction."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from gonghao.access.scopes import reach_of
from gonghao.access.services import hidden_fields_for, require
from gonghao.audit.services import diff, record
from gonghao.core import clock
from gonghao.core.errors import PermissionDenied, ValidationFailed

from . import audit_actions
from . import permissions as perms
from .constants import SENSITIVE_FIELDS
from .masking import mask
from .models import Customer
from .queries import get_customer_for
from .validation import clean_customer_fields

EDITABLE_FIELDS = (
    "kind",
    "name",
    "industry",
    "level",
    "source",
    "status",
    "phone",
    "email",
    "id_number",
    "address",
    "tags",
    "notes",
)


def snapshot(customer: Customer) -> dict[str, Any]:
    data = {name: getattr(customer, name) for name in EDITABLE_FIELDS}
    data["owner"] = customer.owner.employee_id if customer.owner_id else None
    return data


def masked_changes(changes: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """Before/after for the audit log with personal data masked: the log holds no clear PII."""
    return {
        name: [mask(name, v) if v else v for v in values] if name in SENSITIVE_FIELDS else values
        for name, values in changes.items()
    }


def _refuse_hidden(actor: Any, permission: str, fields: set[str]) -> None:
    hidden = {h.split(".", 1)[1] for h in hidden_fields_for(actor, permission)}
    blocked = sorted(fields & hidden)
    if blocked:
        raise ValidationFailed(
            field_errors={name: [_("This field is not available to you.")] for name in blocked},
            code="field_hidden",
        )


def _check_owner_in_reach(actor: Any, permission: str, owner: Any) -> None:
    if owner is None or not owner.is_active:
        raise ValidationFailed(field_errors={"owner": [_("The owner must be an active employee.")]})
    if not reach_of(actor, permission).covers(owner.pk, owner.department_id):
        raise PermissionDenied(
            _("You cannot give a customer to an employee outside your scope."),
            code="owner_out_of_scope",
        )


def create_customer(*, actor: Any, data: dict[str, Any], owner: Any = None) -> Customer:
    require(actor, perms.CREATE)
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(field_errors={k: [_("Unknown field.")] for k in sorted(unknown)})
    _refuse_hidden(actor, perms.CREATE, {k for k, v in data.items() if v not in (None, "")})
    cleaned = clean_customer_fields(data, partial=False)
    owner = owner or actor
    _check_owner_in_reach(actor, perms.CREATE, owner)
    with transaction.atomic():
        customer = Customer(**cleaned)
        customer.owner = owner
        customer.owner_department_id = owner.department_id
        customer.owner_since = clock.now()
        customer.created_by = actor
        customer.updated_by = actor
        customer.save()
        record(
            audit_actions.CUSTOMER_CREATE,
            actor=actor,
            target=customer,
            changes=masked_changes(
                {k: v for k, v in diff({}, snapshot(customer)).items() if v[1] != ""}
            ),
        )
    return customer


def update_customer(customer_id: int, *, actor: Any, data: dict[str, Any]) -> Customer:
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(field_errors={k: [_("Unknown field.")] for k in sorted(unknown)})
    get_customer_for(actor, customer_id, perms.EDIT)
    _refuse_hidden(actor, perms.EDIT, set(data))
    cleaned = clean_customer_fields(data, partial=True)
    with transaction.atomic():
        customer = (
            Customer.objects.select_for_update(of=("self",))
            .select_related("owner")
            .get(pk=customer_id)
        )
        before = snapshot(customer)
        for name, value in cleaned.items():
            setattr(customer, name, value)
        changes = diff(before, snapshot(customer))
        if not changes:
            return customer
        customer.updated_by = actor
        customer.save()
        record(
            audit_actions.CUSTOMER_UPDATE,
            actor=actor,
            target=customer,
            changes=masked_changes(changes),
        )
    return customer


def delete_customer(customer_id: int, *, actor: Any) -> Customer:
    get_customer_for(actor, customer_id, perms.DELETE)
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer_id)
        customer.deleted_at = clock.now()
        customer.deleted_by = actor
        customer.save(update_fields=["deleted_at", "deleted_by", "updated_at"])
        record(audit_actions.CUSTOMER_DELETE, actor=actor, target=customer)
    return customer


def restore_customer(customer_id: int, *, actor: Any) -> Customer:
    get_customer_for(actor, customer_id, perms.RESTORE, deleted=True)
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer_id)
        customer.deleted_at = None
        customer.deleted_by = None
        customer.updated_by = actor
        customer.save(update_fields=["deleted_at", "deleted_by", "updated_by", "updated_at"])
        record(audit_actions.CUSTOMER_RESTORE, actor=actor, target=customer)
    return customer


def transfer_customer(customer_id: int, *, actor: Any, new_owner: Any) -> Customer:
    customer = get_customer_for(actor, customer_id, perms.TRANSFER)
    _check_owner_in_reach(actor, perms.TRANSFER, new_owner)
    if customer.owner_id == new_owner.pk:
        return customer
    with transaction.atomic():
        customer = (
            Customer.objects.select_for_update(of=("self",))
            .select_related("owner")
            .get(pk=customer_id)
        )
        previous = customer.owner
        customer.owner = new_owner
        customer.owner_department_id = new_owner.department_id
        customer.owner_since = clock.now()
        customer.claimed_at = None  # a transferred customer no longer counts against the cap
        customer.pool_since = None
        customer.updated_by = actor
        customer.save()
        record(
            audit_actions.CUSTOMER_TRANSFER,
            actor=actor,
            target=customer,
            params={
                "from": previous.employee_id if previous else "—",
                "to": new_owner.employee_id,
            },
            changes={
                "owner": [previous.employee_id if previous else None, new_owner.employee_id],
                "owner_department": [
                    previous.department_id if previous else None,
                    new_owner.department_id,
                ],
            },
        )
    return customer


def reveal_fields(customer_id: int, *, actor: Any, fields: list[str]) -> dict[str, str]:
    """Show personal data in clear: an explicit, audited act by someone allowed to."""
    wanted = [f for f in dict.fromkeys(fields) if f in SENSITIVE_FIELDS]
    if not wanted or len(wanted) != len(set(fields)):
        raise ValidationFailed(
            field_errors={"fields": [_("Choose among: %(f)s") % {"f": ", ".join(SENSITIVE_FIELDS)}]}
        )
    customer = get_customer_for(actor, customer_id, perms.VIEW_SENSITIVE)
    _refuse_hidden(actor, perms.VIEW, set(wanted))
    with transaction.atomic():
        record(
            audit_actions.CUSTOMER_REVEAL,
            actor=actor,
            target=customer,
            params={"field": ",".join(wanted)},
        )
    return {name: getattr(customer, name) for name in wanted}


def record_view(customer: Customer, *, actor: Any) -> None:
    """Trace who opened whose record (switch: GONGHAO_AUDIT_READS)."""
    if not settings.GONGHAO_AUDIT_READS:
        return
    with transaction.atomic():
        record(audit_actions.CUSTOMER_VIEW, actor=actor, target=customer)
