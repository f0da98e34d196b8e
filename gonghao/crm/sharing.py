"""Sharing a customer with an employee or a department: listing, sharing and revoking, audited.

Who may share: holders of customer.share whose scope covers the customer (with the built-in
roles: the owner, and the department head above them). What a share does is decided in
share_reach (it widens the reach of permissions the recipient already holds).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from gonghao.access.scopes import reach_of
from gonghao.access.services import has_permission
from gonghao.audit.services import record
from gonghao.core import clock
from gonghao.core.errors import Conflict, NotFound, ValidationFailed

from . import audit_actions
from . import permissions as perms
from .constants import ShareAccess
from .models import Customer, CustomerShare
from .queries import get_customer_for
from .share_reach import expiry_of, live_shares, today

# --- reading ----------------------------------------------------------------------------------


def shares_for(actor: Any, customer_id: int, *, include_inactive: bool = False) -> QuerySet:
    """The customer's shares, for anyone who can see the customer (403 / 404 as for it)."""
    return shares_of(get_customer_for(actor, customer_id), include_inactive=include_inactive)


def shares_of(customer: Customer, *, include_inactive: bool = False) -> QuerySet:
    """The shares of a customer the caller has already fetched through get_customer_for: the
    customer 360 page checks visibility once, not again for its shares card."""
    base = live_shares() if not include_inactive else CustomerShare.objects.all()
    return (
        base.filter(customer=customer)
        .select_related("employee", "department", "created_by", "revoked_by")
        .order_by("-created_at", "-id")
    )


def may_share(actor: Any, customer: Customer) -> bool:
    return has_permission(actor, perms.SHARE) and reach_of(actor, perms.SHARE).covers(
        customer.owner_id, customer.owner_department_id
    )


def is_live(share: CustomerShare) -> bool:
    return share.revoked_at is None and (share.expires_at is None or share.expires_at > clock.now())


def recipient_label(share: CustomerShare) -> str:
    if share.employee_id:
        return f"{share.employee.employee_id} {share.employee.name}"
    if share.include_subdepartments:
        return _("%(department)s (with sub-departments)") % {"department": share.department.name}
    return share.department.name


def present_share(share: CustomerShare) -> dict[str, Any]:
    def person(employee):
        return {"employee_id": employee.employee_id, "name": employee.name} if employee else None

    return {
        "id": share.pk,
        "customer_id": share.customer_id,
        "employee": person(share.employee) if share.employee_id else None,
        "department": (
            {"id": share.department_id, "name": share.department.name}
            if share.department_id
            else None
        ),
        "include_subdepartments": share.include_subdepartments,
        "access": share.access,
        "until": share.until,
        "expires_at": share.expires_at,
        "active": is_live(share),
        "created_by": person(share.created_by) if share.created_by_id else None,
        "created_at": share.created_at,
        "revoked_at": share.revoked_at,
    }


# --- writing ----------------------------------------------------------------------------------


def _validate(
    actor: Any,
    customer: Customer,
    *,
    employee: Any,
    department: Any,
    include_subdepartments: bool,
    access: str,
    until: date | None,
) -> None:
    errors: dict[str, list[str]] = {}
    if (employee is None) == (department is None):
        errors["recipient"] = [_("Share with either one employee or one department.")]
    if employee is not None:
        if employee.pk == actor.pk:
            errors["employee"] = [_("You cannot share a customer with yourself.")]
        elif not employee.is_active:
            errors["employee"] = [_("This employee is not active (departed or disabled).")]
        elif employee.pk == customer.owner_id:
            errors["employee"] = [_("This employee already owns the customer.")]
        elif not has_permission(employee, perms.VIEW):
            errors["employee"] = [_("This employee's roles do not allow viewing customers.")]
        if include_subdepartments:
            errors["include_subdepartments"] = [_("Only a department has sub-departments.")]
    if access not in ShareAccess.values:
        errors["access"] = [
            _("Choose one of: %(values)s") % {"values": ", ".join(ShareAccess.values)}
        ]
    if until is not None and until < today():
        errors["until"] = [_("The date cannot be in the past.")]
    if errors:
        raise ValidationFailed(field_errors=errors)


def share_customer(
    customer_id: int,
    *,
    actor: Any,
    employee: Any = None,
    department: Any = None,
    include_subdepartments: bool = False,
    access: str = ShareAccess.READ,
    until: date | None = None,
) -> CustomerShare:
    """Share a customer the actor may share; one audited transaction."""
    customer = get_customer_for(actor, customer_id, perms.SHARE)
    _validate(
        actor,
        customer,
        employee=employee,
        department=department,
        include_subdepartments=include_subdepartments,
        access=access,
        until=until,
    )
    with transaction.atomic():
        # The customer's row lock serialises shares of one customer: no duplicate slips in.
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        same_target = live_shares().filter(customer=customer)
        if employee is not None:
            same_target = same_target.filter(employee=employee)
        else:
            same_target = same_target.filter(department=department)
        if same_target.exists():
            raise Conflict(
                _("The customer is already shared with them; revoke that share first."),
                code="share_exists",
            )
        share = CustomerShare.objects.create(
            customer=customer,
            employee=employee,
            department=department,
            include_subdepartments=bool(department is not None and include_subdepartments),
            access=access,
            until=until,
            expires_at=expiry_of(until),
            created_by=actor,
            created_at=clock.now(),
        )
        recipient = recipient_label(share)
        changes: dict[str, list[Any]] = {
            "recipient": [None, recipient],
            "access": [None, share.access],
        }
        if until is not None:
            changes["until"] = [None, until.isoformat()]
        record(
            audit_actions.CUSTOMER_SHARE,
            actor=actor,
            target=customer,
            params={"recipient": recipient, "share": share.pk},
            changes=changes,
        )
    return share


def revoke_share(customer_id: int, share_id: int, *, actor: Any) -> CustomerShare:
    """Stop a share (it stays on record, revoked); a revoked or unknown share is 404."""
    customer = get_customer_for(actor, customer_id, perms.SHARE)
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        share = (
            CustomerShare.objects.select_related("employee", "department")
            .filter(pk=share_id, customer=customer, revoked_at__isnull=True)
            .first()
        )
        if share is None:
            raise NotFound(_("No such share of this customer."), code="share_not_found")
        share.revoked_at = clock.now()
        share.revoked_by = actor
        share.save(update_fields=["revoked_at", "revoked_by"])
        recipient = recipient_label(share)
        record(
            audit_actions.CUSTOMER_UNSHARE,
            actor=actor,
            target=customer,
            params={"recipient": recipient, "share": share.pk},
            changes={"revoked_at": [None, share.revoked_at.isoformat()]},
        )
    return share
