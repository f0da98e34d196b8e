"""The dashboard's figures on a known data set, per viewer scope, filters and query counts."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gonghao.access.models import Role
from gonghao.core.errors import PermissionDenied, ValidationFailed
from gonghao.crm.models import Interaction
from gonghao.crm.tests.opportunity_kit import make_opportunity
from gonghao.reports.dashboards import DashboardFilter, dashboard_for, week_starts
from gonghao.testing.crm import make_customer
from gonghao.testing.kit import make_employee

from .conftest import NOW, TODAY


def counts(rows) -> dict[str, int]:
    return {row["key"]: row["count"] for row in rows}


def pipeline(board) -> dict[str, tuple[int, dict | None]]:
    return {row["stage"]: (row["count"], row["amounts"]) for row in board.pipeline_by_stage}


def test_admin_sees_every_figure_of_the_company(world):
    board = dashboard_for(world.crm.admin, DashboardFilter(period=90))

    assert board.customers_total == 6  # the deleted customer is never counted
    assert counts(board.customers_by_status) == {
        "lead": 3,
        "prospect": 1,
        "active": 2,
        "dormant": 0,
        "lost": 0,
    }
    assert counts(board.customers_by_level) == {"A": 2, "B": 1, "C": 0, "D": 0, "": 3}
    assert counts(board.customers_by_source) == {
        "referral": 1,
        "website": 2,
        "exhibition": 0,
        "cold_call": 0,
        "advertising": 0,
        "partner": 0,
        "other": 0,
        "": 3,
    }
    assert board.new_customers_in_period == 5  # a, b, c, d, f; e is 200 days old
    assert board.win_rate == {"won": 2, "lost": 1, "rate": 0.6667}
    assert board.follow_ups_total == 5
    assert [(r["employee_id"], r["count"]) for r in board.follow_ups_per_employee] == [
        (world.crm.rep_a.employee_id, 3),
        *sorted([(world.crm.rep_b.employee_id, 1), (world.crm.rep_c.employee_id, 1)]),
    ]
    assert board.follow_ups_per_employee[0]["name"] == "张三"
    assert board.overdue_follow_ups == 3  # i1, i4, i6; not done, not future, not deleted
    assert [row["interaction_id"] for row in board.overdue_list] == [
        world.interactions[name].pk for name in ("i6", "i4", "i1")
    ]
    assert board.people_visible is True


def test_new_customers_per_week_are_twelve_mondays_zero_filled(world):
    board = dashboard_for(world.crm.admin)
    weeks = board.new_customers_per_week

    assert len(weeks) == 12
    assert weeks[0]["week_start"] == date(2025, 12, 29)
    assert weeks[-1]["week_start"] == date(2026, 3, 16)
    assert all(
        later["week_start"] - earlier["week_start"] == timedelta(weeks=1)
        for earlier, later in pairwise(weeks)
    )
    by_week = [week["count"] for week in weeks]
    # c on 2026-01-01 (week 0), b on 03-04 (week 9), f on 03-11 (week 10), a today (week 11);
    # d (2025-12-24) is before the first week.
    assert by_week == [1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1]


def test_week_starts_on_a_monday_include_that_day():
    monday = date(2026, 3, 16)
    assert week_starts(monday)[-1] == monday
    assert week_starts(monday + timedelta(days=6))[-1] == monday


def test_pipeline_keeps_currencies_apart(world):
    board = dashboard_for(world.crm.admin)

    assert board.pipeline_currencies == ["CNY", "USD"]
    assert pipeline(board) == {
        "initial": (3, {"CNY": "3000.00", "USD": "500.00"}),
        "needs": (0, {"CNY": "0.00", "USD": "0.00"}),
        "proposal": (1, {"CNY": "4000.00", "USD": "0.00"}),
        "negotiation": (0, {"CNY": "0.00", "USD": "0.00"}),
    }
    # Won and lost are the win rate, not the open pipeline.
    assert "won" not in pipeline(board) and "lost" not in pipeline(board)


@pytest.mark.parametrize(
    ("period", "won", "lost", "rate"),
    [(30, 2, 0, 1.0), (90, 2, 1, 0.6667), (365, 3, 1, 0.75)],
)
def test_win_rate_follows_the_period(world, period, won, lost, rate):
    board = dashboard_for(world.crm.admin, DashboardFilter(period=period))
    assert board.win_rate == {"won": won, "lost": lost, "rate": rate}


def test_win_rate_is_none_without_closed_opportunities(world):
    board = dashboard_for(world.crm.rep_b, DashboardFilter(period=30))
    assert board.win_rate == {"won": 0, "lost": 0, "rate": None}


def test_follow_ups_follow_the_period(world):
    board = dashboard_for(world.crm.admin, DashboardFilter(period=365))
    assert board.follow_ups_total == 6
    assert (world.crm.agent.employee_id, 1) in [
        (r["employee_id"], r["count"]) for r in board.follow_ups_per_employee
    ]
    assert dashboard_for(world.crm.admin, DashboardFilter(period=30)).follow_ups_total == 4


def test_a_rep_sees_only_their_own(world):
    board = dashboard_for(world.crm.rep_a)

    assert board.customers_total == 2  # a and d
    assert board.new_customers_in_period == 2
    assert pipeline(board)["initial"] == (2, {"CNY": "1000.00", "USD": "500.00"})
    assert pipeline(board)["proposal"] == (0, {"CNY": "0.00", "USD": "0.00"})
    assert board.win_rate == {"won": 1, "lost": 0, "rate": 1.0}
    assert [(r["employee_id"], r["count"]) for r in board.follow_ups_per_employee] == [
        (world.crm.rep_a.employee_id, 3)
    ]
    assert board.overdue_follow_ups == 1
    assert [row["customer"]["name"] for row in board.overdue_list] == ["上海甲公司"]
    assert board.departments == []


def test_a_head_sees_their_department_tree(world):
    crm = world.crm
    board = dashboard_for(crm.head)

    assert board.customers_total == 4  # a, d (Sales), b, e (Sales East)
    assert pipeline(board)["initial"] == (3, {"CNY": "3000.00", "USD": "500.00"})
    assert pipeline(board)["proposal"][0] == 0
    assert board.win_rate == {"won": 1, "lost": 1, "rate": 0.5}
    assert sorted((r["employee_id"], r["count"]) for r in board.follow_ups_per_employee) == sorted(
        [(crm.rep_a.employee_id, 3), (crm.rep_b.employee_id, 1)]
    )
    assert board.overdue_follow_ups == 2
    assert [d.code for d in board.departments] == ["SALES", "SALES-E"]

    east = dashboard_for(crm.head, DashboardFilter(department_id=crm.sales_east.pk))
    assert east.customers_total == 2
    assert east.department == crm.sales_east
    assert east.overdue_follow_ups == 1


def test_department_filter_takes_the_subtree(world):
    crm = world.crm
    sales = dashboard_for(crm.admin, DashboardFilter(department_id=crm.sales.pk))
    service = dashboard_for(crm.admin, DashboardFilter(department_id=crm.service.pk))
    assert sales.customers_total == 4
    assert service.customers_total == 2
    assert pipeline(service)["proposal"] == (1, {"CNY": "4000.00"})
    assert service.overdue_follow_ups == 1  # i6 on customer c


def test_department_outside_the_scope_or_a_bad_period_is_refused(world):
    crm = world.crm
    with pytest.raises(ValidationFailed) as refused:
        dashboard_for(crm.head, DashboardFilter(department_id=crm.service.pk))
    assert set(refused.value.field_errors) == {"department"}
    with pytest.raises(ValidationFailed):
        dashboard_for(crm.rep_a, DashboardFilter(department_id=crm.sales.pk))
    with pytest.raises(ValidationFailed) as refused:
        dashboard_for(crm.admin, DashboardFilter(period=7))
    assert set(refused.value.field_errors) == {"period"}


def test_marketing_sees_aggregates_without_people(world):
    board = dashboard_for(world.crm.marketer)

    assert board.customers_total == 6
    assert board.follow_ups_total == 5
    assert board.overdue_follow_ups == 3
    assert board.follow_ups_per_employee is None
    assert board.overdue_list is None
    assert board.people_visible is False


@pytest.mark.parametrize("name", ["nobody", "auditor", "security_admin", "agent"])
def test_roles_without_the_permission_are_refused(world, name):
    with pytest.raises(PermissionDenied):
        dashboard_for(getattr(world.crm, name))


def test_fields_hidden_from_the_role_are_left_out(world):
    head = Role.objects.get(code="department_head")
    head.hidden_fields = ["opportunity.amount", "customer.source"]
    head.save(update_fields=["hidden_fields"])
    board = dashboard_for(world.crm.head)

    assert board.pipeline_amounts_hidden is True
    assert board.pipeline_currencies == []
    assert pipeline(board)["initial"] == (3, None)
    assert board.customers_by_source is None
    assert board.customers_by_level is not None


def test_builtin_roles_hold_the_dashboard_permissions(db):
    from gonghao.access.builtin import ensure_builtin_roles

    ensure_builtin_roles()
    roles = {role.code: set(role.permissions) for role in Role.objects.all()}
    for code in ("system_admin", "department_head", "sales"):
        assert {"dashboard.view", "dashboard.view_people"} <= roles[code]
    assert "dashboard.view" in roles["marketing"]
    assert "dashboard.view_people" not in roles["marketing"]
    for code in ("auditor", "security_admin", "customer_service"):
        assert "dashboard.view" not in roles[code]


def _queries(actor, period: int = 90) -> int:
    with CaptureQueriesContext(connection) as captured:
        dashboard_for(actor, DashboardFilter(period=period))
    return len(captured.captured_queries)


def _grow(world, n: int) -> None:
    """More of everything, spread over every employee and stage."""
    crm = world.crm
    reps = [crm.rep_a, crm.rep_b, crm.rep_c]
    extra = [make_employee(f"新销售{i}", roles=("sales",), department=crm.sales) for i in range(3)]
    for i in range(n):
        owner = (reps + extra)[i % 6]
        customer = make_customer(owner, f"新客户{i}", source="partner", level="C")
        stage = ("initial", "needs", "negotiation", "won", "lost")[i % 5]
        make_opportunity(
            customer, owner, f"新商机{i}", "10.00", stage=stage, currency=("CNY", "EUR")[i % 2]
        )
        Interaction.objects.create(
            customer=customer,
            employee=owner,
            kind="visit",
            occurred_at=NOW - timedelta(days=i),
            content="拜访",
            next_follow_up=TODAY - timedelta(days=1),
        )


@pytest.mark.parametrize("name", ["admin", "head", "rep_a", "marketer"])
def test_query_count_does_not_grow_with_the_data(world, name, django_assert_max_num_queries):
    actor = getattr(world.crm, name)
    dashboard_for(actor)  # warm the grant cache the way one request does
    before = _queries(actor)
    _grow(world, 30)
    with django_assert_max_num_queries(before):
        dashboard_for(actor)
    with django_assert_max_num_queries(14):
        dashboard_for(actor, DashboardFilter(period=365))
