"""Data scopes made concrete for one actor: which owners and departments they reach.

One `ScopeReach` answers both questions the CRM asks: "narrow this queryset" (`q`) and
"would this single record be in reach" (`covers`), from the same sets, so they cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q

from .models import DataScope
from .services import scopes_for


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


@dataclass
class ScopeReach:
    everything: bool = False
    owner_ids: set[int] = field(default_factory=set)
    department_ids: set[int] = field(default_factory=set)

    @property
    def nothing(self) -> bool:
        return not self.everything and not self.owner_ids and not self.department_ids

    def q(self, owner_field: str = "owner_id", department_field: str = "owner_department_id") -> Q:
        if self.everything:
            return Q()
        condition = Q(pk__in=[])
        if self.owner_ids:
            condition |= Q(**{f"{owner_field}__in": sorted(self.owner_ids)})
        if self.department_ids:
            condition |= Q(**{f"{department_field}__in": sorted(self.department_ids)})
        return condition

    def covers(self, owner_id: int | None, department_id: int | None) -> bool:
        if self.everything:
            return True
        return (owner_id is not None and owner_id in self.owner_ids) or (
            department_id is not None and department_id in self.department_ids
        )


def reach_of(employee: Any, permission: str) -> ScopeReach:
    """What the employee reaches with `permission`: the union over their roles' scopes."""
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
        reach.owner_ids |= subordinate_ids(employee)
    department = getattr(employee, "department", None)
    if department is not None:
        if DataScope.DEPARTMENT_TREE in scopes:
            reach.department_ids |= department.descendant_ids()
        elif DataScope.DEPARTMENT in scopes:
            reach.department_ids.add(department.pk)
    return reach
