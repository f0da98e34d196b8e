"""Which customers are shared with an employee right now, plugged into the access scopes.

Registered as a direct reach (gonghao.access.scopes) of customer.view, customer.export and
opportunity.view for every live share, and of customer.edit for editable ones, so lists,
search, counts, exports and single-record checks all see shares through `reach_of`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import DateTimeField, F, IntegerField, Q, QuerySet
from django.utils import timezone

from gonghao.access.scopes import DirectReach, register_direct_reach
from gonghao.core import clock
from gonghao.core.prepared import Bound, BoundList, InList, PreparedQuery

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


def live_shares(now: Any = None) -> QuerySet[CustomerShare]:
    """Shares neither revoked nor expired at `now` (a datetime or an expression; default: the
    clock at query time)."""
    return CustomerShare.objects.filter(revoked_at__isnull=True).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=clock.now() if now is None else now)
    )


def _recipients(employee: Any) -> tuple[int | None, list[int]]:
    """The employee's department and the departments above it."""
    if getattr(employee, "department_id", None) is None:
        return None, []
    department = employee.department
    return department.pk, [d.pk for d in department.ancestors()]


def _reaching(
    shares: QuerySet[CustomerShare], employee_id: Any, department_id: Any, above: Any
) -> QuerySet[CustomerShare]:
    """`shares` whose recipients include the employee: them, their department, or a
    department above theirs shared with its sub-departments."""
    condition = Q(employee_id=employee_id)
    if department_id is not None:
        condition |= Q(department_id=department_id)
    if above is not None:
        condition |= Q(above, include_subdepartments=True)
    return shares.filter(condition)


def shares_reaching(employee: Any) -> QuerySet[CustomerShare]:
    """Live shares whose recipients include the employee: them, their department, or a
    department above theirs shared with its sub-departments."""
    department_id, above = _recipients(employee)
    return _reaching(
        live_shares(), employee.pk, department_id, Q(department_id__in=above) if above else None
    )


def shared_customer_ids(employee: Any, *, editable: bool = False) -> QuerySet:
    shares = shares_reaching(employee)
    if editable:
        shares = shares.filter(access=ShareAccess.EDIT)
    return shares.values_list("customer_id", flat=True)


def _build_shared(in_department: bool, above: int, editable: bool) -> QuerySet[CustomerShare]:
    shares = _reaching(
        live_shares(Bound("now", DateTimeField())).only("customer_id"),
        Bound("employee_id", IntegerField()),
        Bound("department_id", IntegerField()) if in_department else None,
        InList(F("department_id"), BoundList("above", above)) if above else None,
    )
    if editable:
        shares = shares.filter(access=ShareAccess.EDIT)
    return shares


# Lists ask for the ids shared with their reader on every page: compiled once (core/prepared.py).
SHARED_WITH = PreparedQuery(_build_shared)


def _shared_id_list(employee: Any, editable: bool) -> Callable[[int], list[int]]:
    def listed(limit: int) -> list[int]:
        department_id, above = _recipients(employee)
        shares = SHARED_WITH.all(
            department_id is not None,
            len(above),
            editable,
            now=clock.now(),
            employee_id=employee.pk,
            department_id=department_id,
            above=above,
        )
        return [share.customer_id for share in shares[:limit]]

    return listed


def _read_reach(employee: Any) -> DirectReach:
    return DirectReach(
        lambda: shared_customer_ids(employee), "customer_id", _shared_id_list(employee, False)
    )


def _edit_reach(employee: Any) -> DirectReach:
    return DirectReach(
        lambda: shared_customer_ids(employee, editable=True),
        "customer_id",
        _shared_id_list(employee, True),
    )


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
