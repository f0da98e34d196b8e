"""Dashboard API: the same aggregates as the page, for the same viewer and filters."""

from __future__ import annotations

from datetime import date, datetime

from django.http import HttpRequest
from ninja import Query, Router, Schema

from gonghao.core.api_support import READ_ERRORS, RecordId

from . import dashboards

router = Router()


class DepartmentRef(Schema):
    id: int
    code: str
    name: str


class WeekCount(Schema):
    week_start: date
    count: int


class LabelledCount(Schema):
    key: str
    label: str
    count: int


class StageValue(Schema):
    stage: str
    name: str
    count: int
    amounts: dict[str, str] | None = None


class WinRate(Schema):
    won: int
    lost: int
    rate: float | None


class EmployeeCount(Schema):
    employee_id: str
    name: str
    count: int


class CustomerRef(Schema):
    id: int
    name: str


class PersonRef(Schema):
    employee_id: str
    name: str


class OverdueItem(Schema):
    interaction_id: int
    customer: CustomerRef
    employee: PersonRef
    kind: str
    next_follow_up: date


class DashboardOut(Schema):
    period: int
    since: datetime
    today: date
    department: DepartmentRef | None
    departments: list[DepartmentRef]
    customers_total: int
    new_customers_in_period: int
    new_customers_per_week: list[WeekCount]
    customers_by_status: list[LabelledCount]
    customers_by_level: list[LabelledCount] | None
    customers_by_source: list[LabelledCount] | None
    pipeline_currencies: list[str]
    pipeline_by_stage: list[StageValue]
    pipeline_amounts_hidden: bool
    win_rate: WinRate
    follow_ups_total: int
    follow_ups_per_employee: list[EmployeeCount] | None
    overdue_follow_ups: int
    overdue_list: list[OverdueItem] | None
    people_visible: bool


@router.get(
    "",
    response={200: DashboardOut, **READ_ERRORS},
    summary="The dashboard's aggregates within your scope",
    description=(
        "New customers per week (last 12 weeks), customers by status / level / source, open "
        "pipeline value by stage per currency, win rate, follow-ups per employee and overdue "
        "follow-ups. `period` (30, 90 or 365 days) applies to the win rate, the follow-ups and "
        "new customers in the period; `department` narrows to a department (and those below it) "
        "when your scope spans several. Without `dashboard.view_people`, `follow_ups_per_employee` "
        "and `overdue_list` are null."
    ),
)
def get_dashboard(
    request: HttpRequest,
    period: int = Query(dashboards.DEFAULT_PERIOD, description="days: 30, 90 or 365"),
    department: RecordId | None = None,
):
    filters = dashboards.DashboardFilter(period=period, department_id=department)
    return dashboards.dashboard_for(request.auth, filters).as_dict()
