"""Reading the audit log: the filters shared by the page and the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from gonghao.access.services import require
from gonghao.accounts import employee_ids

from .models import AuditEvent


@dataclass
class AuditFilter:
    employee_id: str = ""
    action: str = ""
    target_type: str = ""
    target_id: str = ""
    since: datetime | None = None
    until: datetime | None = None


def events_for(actor, filters: AuditFilter) -> QuerySet[AuditEvent]:
    """Events the actor may read (auditors: all), narrowed by the filters."""
    require(actor, "audit.view")
    queryset = AuditEvent.objects.all()
    if filters.employee_id:
        queryset = queryset.filter(actor_employee_id=employee_ids.normalise(filters.employee_id))
    if filters.action:
        action = filters.action.strip()
        if action.endswith(".*"):
            queryset = queryset.filter(action__startswith=action[:-1])
        else:
            queryset = queryset.filter(action=action)
    if filters.target_type:
        queryset = queryset.filter(target_type=filters.target_type.strip().lower())
    if filters.target_id:
        queryset = queryset.filter(target_id=filters.target_id.strip())
    if filters.since:
        queryset = queryset.filter(occurred_at__gte=filters.since)
    if filters.until:
        queryset = queryset.filter(occurred_at__lt=filters.until)
    return queryset.order_by("-seq")
