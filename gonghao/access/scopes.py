"""Data scopes made concrete for one actor: which owners and departments they reach.

One `ScopeReach` answers both questions the CRM asks: "narrow this queryset" (`q`) and
"would this single record be in reach" (`covers`), from the same sets, so they cannot drift.

Besides owners and departments, an app can register a *direct reach* for a permission: records
an employee reaches one by one whoever owns them (the CRM's customer shares). It joins the same
`q()` as a subquery and the same `covers()` as one lookup, so lists and single-record checks
still agree; it widens the reach of a permission the employee already holds, never grants one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import F, Q, QuerySet

from gonghao.core.lookups import InSubquery

from .models import DataScope
from .services import request_memo, scopes_for


def subordinate_ids(employee: Any) -> set[int]:
    """Everyone below the employee in the manager chain (not the employee)."""
    model = get_user_model()
    found: set[int] = set()
    frontier = {employee.pk}
    while frontier:
        frontier = set(model.objects.filter(manager_id__in=frontier).values_list("pk", flat=True))
        frontier -= found | {employee.pk}
        found |= frontier
    return found


class DirectReach:
    """Records reached one by one: `ids` is a flat queryset of their primary keys, kept lazy so
    it becomes a subquery of `q()` (a provider may pass a function making it, so that lists
    reading `listed` never build it); `lookup` names its field, to test a single record.
    `listed(limit)`, when the provider has a faster way, gives the same ids as a list."""

    def __init__(
        self,
        ids: QuerySet | Callable[[], QuerySet],
        lookup: str,
        listed: Callable[[int], list[int]] | None = None,
    ) -> None:
        self._ids = ids
        self.lookup = lookup
        self.listed = listed

    @cached_property
    def ids(self) -> QuerySet:
        return self._ids() if callable(self._ids) else self._ids

    def contains(self, record_id: int) -> bool:
        return self.ids.filter(**{self.lookup: record_id}).exists()

    def id_list(self, limit: int) -> list[int]:
        """Up to `limit` of the ids, as a list."""
        return self.listed(limit) if self.listed is not None else list(self.ids[:limit])


# permission code → functions giving the employee's direct reach under it (or None).
DirectReachProvider = Callable[[Any], "DirectReach | None"]
_DIRECT_PROVIDERS: dict[str, list[DirectReachProvider]] = {}


def register_direct_reach(permission: str, provider: DirectReachProvider) -> None:
    """Let `provider(employee)` add records to the reach of `permission` (idempotent)."""
    providers = _DIRECT_PROVIDERS.setdefault(permission, [])
    if provider not in providers:
        providers.append(provider)


@dataclass
class ScopeReach:
    everything: bool = False
    owner_ids: set[int] = field(default_factory=set)
    department_ids: set[int] = field(default_factory=set)
    direct: list[DirectReach] = field(default_factory=list)

    @property
    def nothing(self) -> bool:
        return (
            not self.everything
            and not self.owner_ids
            and not self.department_ids
            and not self.direct
        )

    def q(
        self,
        owner_field: str = "owner_id",
        department_field: str = "owner_department_id",
        record_field: str | None = None,
    ) -> Q:
        """The queryset filter. Direct reach counts only where the caller names `record_field`,
        the field holding the ids it lists (`pk` on the record itself; for customer shares
        `customer_id` on a related model): a caller that does not know about it gets the
        owner/department reach, never rows matched on the wrong ids."""
        if self.everything:
            return Q()
        condition = Q(pk__in=[])
        if self.owner_ids:
            condition |= Q(**{f"{owner_field}__in": sorted(self.owner_ids)})
        if self.department_ids:
            condition |= Q(**{f"{department_field}__in": sorted(self.department_ids)})
        if record_field is not None:
            for reach in self.direct:
                condition |= Q(InSubquery(F(record_field), reach.ids))
        return condition

    def covers(
        self, owner_id: int | None, department_id: int | None, record_id: int | None = None
    ) -> bool:
        """Would this record be in reach? Pass `record_id` for direct reach (shares) to count;
        that costs one query, and only when owner and department do not already cover it."""
        if self.everything:
            return True
        if (owner_id is not None and owner_id in self.owner_ids) or (
            department_id is not None and department_id in self.department_ids
        ):
            return True
        if record_id is None:
            return False
        return any(reach.contains(record_id) for reach in self.direct)


def reach_of(employee: Any, permission: str) -> ScopeReach:
    """What the employee reaches with `permission`: the union over their roles' scopes.

    For an employee loaded for a request (`access.services.bind_to_request`) it is worked out
    once per permission and request; callers must not change the answer.
    """
    memo = request_memo(employee)
    if memo is None:
        return _reach_of(employee, permission, {})
    key = ("reach", permission)
    if key not in memo:
        memo[key] = _reach_of(employee, permission, memo)
    return memo[key]


def _reach_of(employee: Any, permission: str, memo: dict[Any, Any]) -> ScopeReach:
    scopes = scopes_for(employee, permission)
    reach = ScopeReach()
    if not scopes:
        return reach
    if DataScope.ALL in scopes:
        reach.everything = True
        return reach
    if DataScope.OWN in scopes or DataScope.SUBORDINATES in scopes:
        reach.owner_ids.add(employee.pk)
    if DataScope.SUBORDINATES in scopes:
        if "subordinates" not in memo:
            memo["subordinates"] = subordinate_ids(employee)
        reach.owner_ids |= memo["subordinates"]
    department = getattr(employee, "department", None)
    if department is not None:
        if DataScope.DEPARTMENT_TREE in scopes:
            if "department_tree" not in memo:
                memo["department_tree"] = department.descendant_ids()
            reach.department_ids |= memo["department_tree"]
        elif DataScope.DEPARTMENT in scopes:
            reach.department_ids.add(department.pk)
    for provider in _DIRECT_PROVIDERS.get(permission, ()):
        direct = provider(employee)
        if direct is not None:
            reach.direct.append(direct)
    return reach
