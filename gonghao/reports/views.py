"""The dashboard page: charts drawn by ECharts from embedded JSON, each with its table."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from gonghao.core.errors import ValidationFailed
from gonghao.core.views import domain_errors_as_pages

from . import dashboards


def _filters_from(request: HttpRequest) -> dashboards.DashboardFilter:
    """The GET parameters as filters; what is not a number is left for the service to refuse."""
    raw_period = request.GET.get("period", "").strip()
    raw_department = request.GET.get("department", "").strip()
    period = int(raw_period) if raw_period.isdigit() else dashboards.DEFAULT_PERIOD
    if raw_period and not raw_period.isdigit():
        period = -1
    department = int(raw_department) if raw_department.isdigit() else None
    if raw_department and not raw_department.isdigit():
        department = -1
    return dashboards.DashboardFilter(period=period, department_id=department)


def chart_labels() -> dict[str, str]:
    """The words the charts draw, in the viewer's language."""
    return {
        "customers": _("Customers"),
        "new_customers": _("New customers"),
        "opportunities": _("Opportunities"),
        "amount": _("Amount"),
        # "Lost" alone is already a customer status (流失客户): these are opportunity outcomes.
        "won": pgettext("opportunity outcome", "Won"),
        "lost": pgettext("opportunity outcome", "Lost"),
        "follow_ups": _("Follow-ups"),
        "week_of": _("Week of"),
    }


def chart_data(board: dashboards.Dashboard) -> dict:
    """Only what the charts draw: no customer names, and people only when the viewer may."""
    data = board.as_dict()
    data.pop("overdue_list")
    data.pop("departments")
    return data


@login_required
@domain_errors_as_pages
def dashboard(request: HttpRequest):
    filters = _filters_from(request)
    errors: dict[str, list[str]] = {}
    try:
        board = dashboards.dashboard_for(request.user, filters)
    except ValidationFailed as error:
        errors = error.field_errors
        filters = dashboards.DashboardFilter()
        board = dashboards.dashboard_for(request.user, filters)
    status = 400 if errors else 200
    return render(
        request,
        "reports/dashboard.html",
        {
            "board": board,
            "chart_data": chart_data(board),
            "chart_labels": chart_labels(),
            "periods": dashboards.PERIODS,
            "errors": errors,
        },
        status=status,
    )
