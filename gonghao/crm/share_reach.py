"""Which customers are shared with an employee right now, plugged into the access scopes.

Registered as a direct reach (gonghao.access.scopes) of customer.view, customer.export and
opportunity.view for every live share, and of customer.edit for editable ones, so lists,
search, counts, exports and single-record checks all see shares through `reach_of`.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from gonghao.access.scopes import DirectReach, register_direct_reach
from gonghao.core import clock

from . import permissions as perms
from .constants import ShareAccess
from .models import CustomerShare, Opportunity


def today() -> date:
    """Today in the deployment's time zone: share dates are calendar days of the company."""
    return timezone.localdate(clock.now(), timezone.get_default_timezone())


def expiry_of(until: date | None) -> datetime | None:
    """A share "until 2026-12-31" works through that day and stops at the next midnight."""
    if until is None:
        return None
    return timezone.make_aware(
        datetime.combine(until + timedelta(days=1), time.min), timezone.get_default_timezone()
    )


def live_shares() -> QuerySet[CustomerShare]:
    """Shares neither revoked nor expired, judged by the clock at query time."""
    return CustomerShare.objects.filter(revoked_at__isnull=True).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=clock.now())
    )


def shares_reaching(employee: Any) -> QuerySet[CustomerShare]:
    """Live shares whose recipients include the employee: them, their department, or a
    department above theirs shared with its sub-departments."""
    condition = Q(employee_id=employee.pk)
    if getattr(employee, "department_id", None) is not None:
        department = employee.department
        condition |= Q(department_id=department.pk)
        above = [d.pk for d in department.ancestors()]
        if above:
            condition |= Q(department_id__in=above, include_subdepartments=True)
    return live_shares().filter(condition)


def shared_customer_ids(employee: Any, *, editable: bool = False) -> QuerySet:
    shares = shares_reaching(employee)
    if editable:
        shares = shares.filter(access=ShareAccess.EDIT)
    return shares.values_list("customer_id", flat=True)


def _read_reach(employee: Any) -> DirectReach:
    return DirectReach(shared_customer_ids(employee), "customer_id")


def _edit_reach(employee: Any) -> DirectReach:
    return DirectReach(shared_customer_ids(employee, editable=True), "customer_id")


def _opportunity_reach(employee: Any) -> DirectReach:
    # The opportunities of a shared customer are read along with it (never edited through it).
    ids = Opportunity.objects.filter(customer_id__in=shared_customer_ids(employee)).values_list(
        "pk", flat=True
    )
    return DirectReach(ids, "pk")


register_direct_reach(perms.VIEW, _read_reach)
register_direct_reach(perms.EXPORT, _read_reach)
register_direct_reach(perms.EDIT, _edit_reach)
register_direct_reach(perms.OPPORTUNITY_VIEW, _opportunity_reach)
