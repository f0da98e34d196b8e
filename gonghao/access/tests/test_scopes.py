"""Data scopes: own, subordinates, department, department tree, all, and their union."""

from __future__ import annotations

import pytest

from gonghao.access.models import Role, RoleGrant
from gonghao.access.scopes import reach_of, subordinate_ids
from gonghao.access.services import grant_role
from gonghao.core.errors import PermissionDenied
from gonghao.crm.models import Customer
from gonghao.crm.queries import CustomerFilter, customers_for
from gonghao.org.models import Department
from gonghao.testing.crm import make_crm_cast, make_customer
from gonghao.testing.kit import api_for, make_employee

pytestmark = pytest.mark.django_db


@pytest.fixture
def crm(db):
    return make_crm_cast()


def visible(employee, **filters) -> set[str]:
    return set(customers_for(employee, CustomerFilter(**filters)).values_list("name", flat=True))


def only_role(employee, code: str, scope: str, permissions=("customer.view",)) -> Role:
    """Take the employee's roles away and give one role with `scope`."""
    RoleGrant.objects.filter(employee=employee).delete()
    role = Role.objects.create(
        code=code, name_zh=code, name_en=code, permissions=list(permissions), data_scope=scope
    )
    grant_role(employee, code, actor=None, check_permission=False)
    return role


def test_own_scope(crm):
    assert visible(crm.rep_a) == {"上海甲公司"}
    assert visible(crm.rep_b) == {"杭州乙公司"}
    assert visible(crm.rep_c) == {"北京丙公司"}
    reach = reach_of(crm.rep_a, "customer.view")
    assert reach.owner_ids == {crm.rep_a.pk} and not reach.department_ids
    assert not reach.everything


def test_subordinates_scope_follows_the_manager_chain(crm):
    only_role(crm.head, "team_lead", "subordinates")
    # Someone in another department, reporting to rep_b: reached through the chain.
    far = make_employee("赵远", roles=("sales",), department=crm.service, manager=crm.rep_b)
    make_customer(far, "广州丁公司")
    assert visible(crm.head) == {"上海甲公司", "杭州乙公司", "广州丁公司"}
    assert reach_of(crm.head, "customer.view").owner_ids == {
        crm.head.pk,
        crm.rep_a.pk,
        crm.rep_b.pk,
        far.pk,
    }
    assert visible(crm.head, q="北京") == set()
    # rep_a's subordinates are rep_b and far, not the head above.
    assert subordinate_ids(crm.rep_a) == {crm.rep_b.pk, far.pk}


def test_a_manager_cycle_does_not_loop(crm):
    crm.head.manager = crm.rep_b  # head → rep_a → rep_b → head
    crm.head.save(update_fields=["manager"])
    assert subordinate_ids(crm.head) == {crm.rep_a.pk, crm.rep_b.pk}
    assert subordinate_ids(crm.rep_b) == {crm.head.pk, crm.rep_a.pk}


def test_department_scope_is_the_own_department_only(crm):
    only_role(crm.head, "desk", "department")
    assert visible(crm.head) == {"上海甲公司"}  # Sales, not Sales East below it
    assert reach_of(crm.head, "customer.view").department_ids == {crm.sales.pk}


def test_department_tree_scope_includes_sub_departments(crm):
    assert visible(crm.head) == {"上海甲公司", "杭州乙公司"}
    reach = reach_of(crm.head, "customer.view")
    assert reach.department_ids == {crm.sales.pk, crm.sales_east.pk}
    # A department created under Sales East joins the tree.
    deeper = Department.objects.create(code="SALES-E1", name="苏州", parent=crm.sales_east)
    rep = make_employee("苏销售", roles=("sales",), department=deeper)
    make_customer(rep, "苏州戊公司")
    assert visible(crm.head) == {"上海甲公司", "杭州乙公司", "苏州戊公司"}


def test_scope_follows_the_record_department_not_the_owner_today(crm):
    # The head reaches customers recorded in the department tree; the owner's move elsewhere
    # does not drag the customer out until it is transferred.
    crm.rep_b.department = crm.service
    crm.rep_b.save(update_fields=["department"])
    assert "杭州乙公司" in visible(crm.head)


def test_all_scope(crm):
    assert visible(crm.agent) == {"上海甲公司", "杭州乙公司", "北京丙公司"}
    assert visible(crm.admin) == {"上海甲公司", "杭州乙公司", "北京丙公司"}
    assert reach_of(crm.agent, "customer.view").everything


def test_no_role_reaches_nothing(crm):
    reach = reach_of(crm.nobody, "customer.view")
    assert reach.nothing
    assert not reach.covers(crm.rep_a.pk, crm.sales.pk)
    with pytest.raises(PermissionDenied):
        customers_for(crm.nobody, CustomerFilter())
    # The marketer exports but does not view.
    assert reach_of(crm.marketer, "customer.view").nothing
    assert reach_of(crm.marketer, "customer.export").everything


def test_two_roles_give_the_union_of_their_scopes(crm):
    dual = make_employee("双角色", roles=("sales",), department=crm.sales_east)
    # Recorded in Service (e.g. before dual moved): reached only as "own".
    Customer.objects.create(
        name="自有客户", owner=dual, owner_department=crm.service, created_by=dual
    )
    assert visible(dual) == {"自有客户"}
    Role.objects.create(
        code="east_desk",
        name_zh="华东柜台",
        name_en="East desk",
        permissions=["customer.view"],
        data_scope="department",
    )
    grant_role(dual, "east_desk", actor=None, check_permission=False)
    assert visible(dual) == {"自有客户", "杭州乙公司"}
    reach = reach_of(dual, "customer.view")
    assert reach.owner_ids == {dual.pk}
    assert reach.department_ids == {crm.sales_east.pk}
    # Each scope counts only for the permissions of its own role.
    assert reach_of(dual, "customer.edit").department_ids == set()


def test_an_all_scope_role_wins_the_union(crm):
    grant_role(crm.rep_a, "customer_service", actor=None, check_permission=False)
    assert visible(crm.rep_a) == {"上海甲公司", "杭州乙公司", "北京丙公司"}
    # …for viewing only: editing stays within the sales role's own scope.
    assert reach_of(crm.rep_a, "customer.edit").owner_ids == {crm.rep_a.pk}
    response = api_for(crm.rep_a).patch(
        f"/api/v1/customers/{crm.customer_c.pk}", {"industry": "制造业"}
    )
    assert response.status_code == 403


def test_counts_and_search_never_leak(crm):
    rep_api = api_for(crm.rep_a)

    def listing(api, **params):
        body = api.get("/api/v1/customers", params).json()
        return body["count"], {item["name"] for item in body["items"]}

    assert listing(rep_api, q="杭州") == (0, set())  # rep_b's customer
    assert listing(rep_api, q="1234") == (1, {"上海甲公司"})  # every phone has 1234
    assert listing(rep_api, q="139 1234") == (0, set())  # rep_b's number, spaced
    assert listing(rep_api, owner=crm.rep_b.employee_id) == (0, set())
    assert listing(rep_api, department_id=crm.sales_east.pk) == (0, set())
    assert listing(rep_api, q="公司") == (1, {"上海甲公司"})

    head_api = api_for(crm.head)
    assert listing(head_api, q="1234") == (2, {"上海甲公司", "杭州乙公司"})
    assert listing(head_api, q="13912345678") == (1, {"杭州乙公司"})
    assert listing(head_api, q="139 1234") == (1, {"杭州乙公司"})
    assert listing(head_api, q="北京") == (0, set())
    assert listing(head_api, q="13712345678") == (0, set())  # rep_c's number
    agent_api = api_for(crm.agent)
    assert listing(agent_api, q="13712345678") == (1, {"北京丙公司"})
    # Out-of-scope records answer 404, the same as records that do not exist.
    response = rep_api.get(f"/api/v1/customers/{crm.customer_b.pk}")
    assert response.status_code == 404
    assert response.json() == rep_api.get("/api/v1/customers/999999").json()


def test_deleted_customers_are_listed_only_with_restore(crm):
    assert api_for(crm.head).delete(f"/api/v1/customers/{crm.customer_b.pk}").status_code == 204
    for employee in (crm.head, crm.rep_b, crm.agent):
        api = api_for(employee)
        for flag in ("1", "true"):
            response = api.get("/api/v1/customers", {"deleted": flag})
            assert response.status_code == 403, (employee, flag)
        assert "杭州乙公司" not in {i["name"] for i in api.get("/api/v1/customers").json()["items"]}
    admin_api = api_for(crm.admin)
    for flag in ("1", "true"):
        body = admin_api.get("/api/v1/customers", {"deleted": flag}).json()
        assert body["count"] == 1
        assert body["items"][0]["name"] == "杭州乙公司"
        assert body["items"][0]["deleted_at"] is not None


# --- direct reach (customer shares plug in here) ------------------------------------------------


def test_direct_reach_joins_q_and_covers_only_where_asked(crm):
    from gonghao.crm import sharing

    sharing.share_customer(crm.customer_c.pk, actor=crm.rep_c, employee=crm.rep_a)
    reach = reach_of(crm.rep_a, "customer.view")
    assert reach.owner_ids == {crm.rep_a.pk} and len(reach.direct) == 1
    with_direct = Customer.objects.filter(reach.q(record_field="pk"))
    assert set(with_direct) == {crm.customer_a, crm.customer_c}
    # A caller that does not name the id field gets the owner reach only: no rows matched on
    # the wrong ids.
    assert set(Customer.objects.filter(reach.q())) == {crm.customer_a}
    assert reach.covers(crm.rep_c.pk, crm.service.pk, crm.customer_c.pk)
    assert not reach.covers(crm.rep_c.pk, crm.service.pk)
    assert not reach.covers(crm.rep_b.pk, crm.sales_east.pk, crm.customer_b.pk)
    # Shares widen held permissions only: none for a permission the employee lacks, and no
    # subquery at all for an "all" scope.
    assert reach_of(crm.rep_a, "customer.delete").nothing
    assert reach_of(crm.agent, "customer.view").direct == []
    assert reach_of(crm.rep_a, "customer.view_sensitive").direct == []


def test_direct_reach_runs_once_instead_of_filtering_every_row(crm):
    """The shares subquery, OR-ed with the owner reach, must not become a per-row filter: on
    PostgreSQL that read the whole customer table for a rep's 50-row page. It is an array
    computed once (an InitPlan), which lets the planner use the indexes of both sides."""
    from django.db import connection

    from gonghao.crm import sharing

    sharing.share_customer(crm.customer_c.pk, actor=crm.rep_c, employee=crm.rep_a)
    listed = customers_for(crm.rep_a, CustomerFilter())
    assert {c.name for c in listed} == {"上海甲公司", crm.customer_c.name}
    sql, params = listed.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            assert "= ANY(ARRAY(SELECT" in sql
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(line for (line,) in cursor.fetchall())
            assert "InitPlan" in plan and "SubPlan" not in plan, plan
        else:
            assert " IN (SELECT" in sql
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = "\n".join(str(line[-1]) for line in cursor.fetchall())
            assert "SCAN crm_customer" not in plan, plan


def test_direct_reach_alone_is_not_nothing(crm):
    from gonghao.crm import sharing

    # A department-scoped viewer outside any department reaches nothing of their own.
    loner = make_employee("无部门员工")
    only_role(loner, "dept_viewer", "department")
    assert loner.department_id is None
    assert reach_of(loner, "customer.view").direct[0].ids.count() == 0
    sharing.share_customer(crm.customer_a.pk, actor=crm.rep_a, employee=loner)
    reach = reach_of(loner, "customer.view")
    assert not reach.nothing
    names = {c.name for c in customers_for(loner, CustomerFilter())}
    assert names == {"上海甲公司"}
