"""Dashboards: the aggregates of the customers, opportunities and follow-ups in a viewer's scope.

Each figure is one or two GROUP BY / conditional-count queries whatever the data size. The
scope is the viewer's reach under `dashboard.view`; fields their roles hide under it (customer
level or source, opportunity amount) are left out, and people (employees by 工号, customer
names) are shown only with `dashboard.view_people`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from gonghao.access.scopes import ScopeReach, reach_of
from gonghao.access.services import has_permission, hidden_fields_for, scopes_for
from gonghao.core import clock, home
from gonghao.core.errors import PermissionDenied, ValidationFailed
from gonghao.crm import permissions as crm_perms
from gonghao.crm.constants import CustomerLevel, CustomerSource, CustomerStatus
from gonghao.crm.models import Customer, Interaction, Opportunity, Stage
from gonghao.org.models import Department

from . import permissions as perms

PERIODS = (30, 90, 365)
DEFAULT_PERIOD = 90
WEEKS = 12
EMPLOYEE_ROWS = 50
OVERDUE_ROWS = 20
NONE_KEY = ""


@dataclass
class DashboardFilter:
    period: int = DEFAULT_PERIOD
    department_id: int | None = None


@dataclass
class Dashboard:
    """What one viewer sees; `as_dict()` is the API's answer and the page's chart data."""

    period: int
    since: datetime
    today: date
    department: Department | None
    departments: list[Department]
    customers_total: int = 0
    new_customers_in_period: int = 0
    new_customers_per_week: list[dict[str, Any]] = field(default_factory=list)
    customers_by_status: list[dict[str, Any]] = field(default_factory=list)
    customers_by_level: list[dict[str, Any]] | None = None
    customers_by_source: list[dict[str, Any]] | None = None
    pipeline_currencies: list[str] = field(default_factory=list)
    pipeline_by_stage: list[dict[str, Any]] = field(default_factory=list)
    pipeline_amounts_hidden: bool = False
    win_rate: dict[str, Any] = field(default_factory=dict)
    follow_ups_total: int = 0
    follow_ups_per_employee: list[dict[str, Any]] | None = None
    overdue_follow_ups: int = 0
    overdue_list: list[dict[str, Any]] | None = None
    people_visible: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "since": self.since,
            "today": self.today,
            "department": _department_ref(self.department) if self.department else None,
            "departments": [_department_ref(d) for d in self.departments],
            "customers_total": self.customers_total,
            "new_customers_in_period": self.new_customers_in_period,
            "new_customers_per_week": self.new_customers_per_week,
            "customers_by_status": self.customers_by_status,
            "customers_by_level": self.customers_by_level,
            "customers_by_source": self.customers_by_source,
            "pipeline_currencies": self.pipeline_currencies,
            "pipeline_by_stage": self.pipeline_by_stage,
            "pipeline_amounts_hidden": self.pipeline_amounts_hidden,
            "win_rate": self.win_rate,
            "follow_ups_total": self.follow_ups_total,
            "follow_ups_per_employee": self.follow_ups_per_employee,
            "overdue_follow_ups": self.overdue_follow_ups,
            "overdue_list": self.overdue_list,
            "people_visible": self.people_visible,
        }


def _department_ref(department: Department) -> dict[str, Any]:
    return {"id": department.pk, "code": department.code, "name": department.name}


# --- filters -----------------------------------------------------------------------------------


def department_choices(reach: ScopeReach) -> list[Department]:
    """The departments a viewer may narrow to: only when their scope spans several."""
    if reach.everything:
        choices = list(Department.objects.order_by("code"))
    elif len(reach.department_ids) > 1:
        choices = list(Department.objects.filter(pk__in=reach.department_ids).order_by("code"))
    else:
        return []
    return choices if len(choices) > 1 else []


def _check_filters(filters: DashboardFilter, choices: list[Department]) -> Department | None:
    errors: dict[str, list[str]] = {}
    if filters.period not in PERIODS:
        errors["period"] = [
            _("Choose one of: %(values)s") % {"values": ", ".join(str(p) for p in PERIODS)}
        ]
    department = None
    if filters.department_id is not None:
        department = next((d for d in choices if d.pk == filters.department_id), None)
        if department is None:
            errors["department"] = [_("Choose a department within your scope.")]
    if errors:
        raise ValidationFailed(field_errors=errors)
    return department


def _subtree(department: Department, choices: list[Department]) -> list[int]:
    """The department and those below it, among the ones the viewer may choose."""
    children: dict[int | None, list[int]] = {}
    for choice in choices:
        children.setdefault(choice.parent_id, []).append(choice.pk)
    found, frontier = {department.pk}, [department.pk]
    while frontier:
        frontier = [c for parent in frontier for c in children.get(parent, []) if c not in found]
        found.update(frontier)
    return sorted(found)


# --- the aggregates ----------------------------------------------------------------------------


def _labelled(rows: dict[str, int], choices) -> list[dict[str, Any]]:
    """Counts for every choice (zeros included, in the choices' order), then "not set"."""
    result = [
        {"key": value, "label": str(label), "count": rows.get(value, 0)}
        for value, label in choices.choices
    ]
    unset = sum(count for key, count in rows.items() if key not in choices.values)
    if unset:
        result.append({"key": NONE_KEY, "label": _("Not set"), "count": unset})
    return result


def week_starts(today: date) -> list[date]:
    """The Mondays of the last WEEKS weeks, oldest first; the last one is this week's."""
    this_monday = today - timedelta(days=today.weekday())
    return [this_monday - timedelta(weeks=n) for n in range(WEEKS - 1, -1, -1)]


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@dataclass
class CustomerFigures:
    by_status: dict[str, int]
    by_level: dict[str, int]
    by_source: dict[str, int]
    weeks: list[dict[str, Any]]
    in_period: int


def _customer_figures(
    customers: QuerySet, today: date, since: datetime, until: datetime
) -> CustomerFigures:
    """Every customer figure in two scans of covering indexes: one grouped by (status, level,
    source) also counting each group's new customers in the period, one counting the weeks."""
    rows = (
        customers.order_by()
        .values("status", "level", "source")
        .annotate(
            n=Count("id"),
            period=Count("id", filter=Q(created_at__gte=since, created_at__lt=until)),
        )
    )
    figures = CustomerFigures({}, {}, {}, [], 0)
    for row in rows:
        for name, target in (
            ("status", figures.by_status),
            ("level", figures.by_level),
            ("source", figures.by_source),
        ):
            key = row[name] or NONE_KEY
            target[key] = target.get(key, 0) + row["n"]
        figures.in_period += row["period"]
    mondays = week_starts(today)
    bounds = [_local_midnight(monday) for monday in mondays]
    bounds.append(_local_midnight(mondays[-1] + timedelta(weeks=1)))
    counts = {
        f"w{i}": Count("id", filter=Q(created_at__gte=bounds[i], created_at__lt=bounds[i + 1]))
        for i in range(WEEKS)
    }
    weeks = (
        customers.filter(created_at__gte=bounds[0], created_at__lt=bounds[-1])
        .order_by()
        .aggregate(**counts)
    )
    figures.weeks = [{"week_start": mondays[i], "count": weeks[f"w{i}"] or 0} for i in range(WEEKS)]
    return figures


def _money(value: Decimal | None) -> str:
    return str((value or Decimal("0")).quantize(Decimal("0.01")))


def _pipeline(
    opportunities: QuerySet, stages: list[Stage], amounts_hidden: bool
) -> tuple[list[str], list[dict[str, Any]]]:
    """Open opportunities by stage; amounts summed per currency, never across currencies."""
    open_ids = [stage.pk for stage in stages if not stage.is_closed]
    rows = (
        opportunities.filter(stage_id__in=open_ids)
        .order_by()
        .values("stage_id", "currency")
        .annotate(n=Count("id"), total=Sum("amount"))
    )
    by_stage: dict[int, dict[str, Any]] = {}
    currencies: set[str] = set()
    for row in rows:
        entry = by_stage.setdefault(row["stage_id"], {"count": 0, "amounts": {}})
        entry["count"] += row["n"]
        entry["amounts"][row["currency"]] = row["total"] or Decimal("0")
        currencies.add(row["currency"])
    ordered_currencies = sorted(currencies)
    result = []
    for stage in stages:
        if stage.is_won or stage.is_lost:
            continue
        entry = by_stage.get(stage.pk, {"count": 0, "amounts": {}})
        if not stage.is_active and not entry["count"]:
            continue
        amounts = None
        if not amounts_hidden:
            amounts = {
                currency: _money(entry["amounts"].get(currency)) for currency in ordered_currencies
            }
        result.append(
            {"stage": stage.code, "name": str(stage), "count": entry["count"], "amounts": amounts}
        )
    return ([] if amounts_hidden else ordered_currencies), result


def _win_rate(
    opportunities: QuerySet, stages: list[Stage], since: datetime, until: datetime
) -> dict[str, Any]:
    won_ids = [stage.pk for stage in stages if stage.is_won]
    lost_ids = [stage.pk for stage in stages if stage.is_lost]
    row = (
        opportunities.filter(closed_at__gte=since, closed_at__lt=until)
        .order_by()
        .aggregate(
            won=Count("id", filter=Q(stage_id__in=won_ids)),
            lost=Count("id", filter=Q(stage_id__in=lost_ids)),
        )
    )
    won, lost = row["won"] or 0, row["lost"] or 0
    rate = round(won / (won + lost), 4) if won + lost else None
    return {"won": won, "lost": lost, "rate": rate}


def _follow_ups(
    interactions: QuerySet, since: datetime, until: datetime, people: bool
) -> tuple[int, list | None]:
    """Follow-ups in the period: the total, and per employee (工号 + name) for those who may."""
    in_period = interactions.filter(occurred_at__gte=since, occurred_at__lt=until).order_by()
    if not people:
        return in_period.count(), None
    # Grouped on the interaction's own column (a covering index scan), people looked up after.
    rows = list(in_period.values_list("employee_id").annotate(n=Count("id")))
    people_by_id = {
        person.pk: person
        for person in get_user_model()
        .objects.filter(pk__in=[pk for pk, _n in rows])
        .only("employee_id", "name")
    }
    per_employee = sorted(
        (
            {
                "employee_id": people_by_id[pk].employee_id,
                "name": people_by_id[pk].name,
                "count": n,
            }
            for pk, n in rows
        ),
        key=lambda row: (-row["count"], row["employee_id"]),
    )
    return sum(n for _pk, n in rows), per_employee[:EMPLOYEE_ROWS]


def _overdue(interactions: QuerySet, today: date) -> QuerySet:
    return interactions.filter(
        follow_up_done_at__isnull=True, next_follow_up__isnull=False, next_follow_up__lt=today
    )


def _overdue_list(actor: Any, overdue: QuerySet, reach: ScopeReach) -> list[dict[str, Any]] | None:
    """The overdue follow-ups on customers the viewer may open; None if they see no records."""
    if not has_permission(actor, crm_perms.VIEW):
        return None
    # Usually the same roles grant both: the dashboard's reach is then the customers' one.
    same = scopes_for(actor, crm_perms.VIEW) == scopes_for(actor, perms.VIEW)
    visible = reach if same else reach_of(actor, crm_perms.VIEW)
    rows = (
        overdue.filter(visible.q("customer__owner_id", "customer__owner_department_id"))
        .select_related("customer", "employee")
        .order_by("next_follow_up", "id")[:OVERDUE_ROWS]
    )
    return [
        {
            "interaction_id": row.pk,
            "customer": {"id": row.customer_id, "name": row.customer.name},
            "employee": {"employee_id": row.employee.employee_id, "name": row.employee.name},
            "kind": row.kind,
            "next_follow_up": row.next_follow_up,
        }
        for row in rows
    ]


def dashboard_for(actor: Any, filters: DashboardFilter | None = None) -> Dashboard:
    """The viewer's dashboard, within their scope; 403 without `dashboard.view`."""
    if not has_permission(actor, perms.VIEW):
        raise PermissionDenied()
    filters = filters or DashboardFilter()
    reach = reach_of(actor, perms.VIEW)
    choices = department_choices(reach)
    department = _check_filters(filters, choices)
    hidden = hidden_fields_for(actor, perms.VIEW)
    people = has_permission(actor, perms.VIEW_PEOPLE)
    now = clock.now()
    today = timezone.localdate(now)
    since = _local_midnight(today - timedelta(days=filters.period - 1))
    until = _local_midnight(today + timedelta(days=1))

    customers = Customer.objects.filter(deleted_at__isnull=True).filter(reach.q())
    opportunities = Opportunity.objects.filter(deleted_at__isnull=True).filter(reach.q())
    if department is not None:
        ids = _subtree(department, choices)
        customers = customers.filter(owner_department_id__in=ids)
        opportunities = opportunities.filter(owner_department_id__in=ids)
    # Follow-ups are scoped through their customer: a semi-join on the scoped customers (or,
    # seeing everything, leaving out the few deleted ones) instead of a join per interaction.
    if reach.everything and department is None:
        interactions = Interaction.objects.exclude(
            customer_id__in=Customer.objects.filter(deleted_at__isnull=False).values("pk")
        )
    else:
        interactions = Interaction.objects.filter(customer_id__in=customers.values("pk"))

    board = Dashboard(
        period=filters.period,
        since=since,
        today=today,
        department=department,
        departments=choices,
        people_visible=people,
    )
    figures = _customer_figures(customers, today, since, until)
    board.customers_total = sum(figures.by_status.values())
    board.customers_by_status = _labelled(figures.by_status, CustomerStatus)
    if "customer.level" not in hidden:
        board.customers_by_level = _labelled(figures.by_level, CustomerLevel)
    if "customer.source" not in hidden:
        board.customers_by_source = _labelled(figures.by_source, CustomerSource)
    board.new_customers_per_week = figures.weeks
    board.new_customers_in_period = figures.in_period
    stages = list(Stage.objects.order_by("position", "id"))
    board.pipeline_amounts_hidden = "opportunity.amount" in hidden
    board.pipeline_currencies, board.pipeline_by_stage = _pipeline(
        opportunities, stages, board.pipeline_amounts_hidden
    )
    board.win_rate = _win_rate(opportunities, stages, since, until)
    board.follow_ups_total, board.follow_ups_per_employee = _follow_ups(
        interactions, since, until, people
    )
    overdue = _overdue(interactions, today)
    board.overdue_follow_ups = overdue.order_by().count()
    if people:
        board.overdue_list = _overdue_list(actor, overdue, reach)
    return board


@home.register
def home_dashboard(request) -> home.HomeSection | None:
    """A link to the dashboard for those who may see it (no figures: home stays cheap)."""
    if not has_permission(request.user, perms.VIEW):
        return None
    return home.HomeSection("reports/_home_dashboard.html", {})
