"""A company to test scopes on: a department tree, one employee per business role, customers."""

from __future__ import annotations

from dataclasses import dataclass

from gonghao.access.builtin import ensure_builtin_roles
from gonghao.accounts.models import Employee
from gonghao.crm.builtin import ensure_default_stages
from gonghao.crm.models import Customer
from gonghao.org.models import Department

from .kit import make_employee


@dataclass
class CrmCast:
    """HQ ─ Sales ─ Sales East, and Service. Sales head manages rep_a; rep_a manages rep_b."""

    hq: Department
    sales: Department
    sales_east: Department
    service: Department
    admin: Employee
    security_admin: Employee
    auditor: Employee
    head: Employee  # department head of Sales (tree: Sales + Sales East)
    rep_a: Employee  # sales, in Sales
    rep_b: Employee  # sales, in Sales East, reports to rep_a
    rep_c: Employee  # sales, in Service (another department)
    agent: Employee  # customer service
    marketer: Employee
    nobody: Employee  # active, no role
    customer_a: Customer  # owned by rep_a
    customer_b: Customer  # owned by rep_b
    customer_c: Customer  # owned by rep_c

    def employees(self) -> dict[str, Employee]:
        return {
            name: getattr(self, name)
            for name in (
                "admin",
                "security_admin",
                "auditor",
                "head",
                "rep_a",
                "rep_b",
                "rep_c",
                "agent",
                "marketer",
                "nobody",
            )
        }


def make_customer(owner: Employee, name: str, **fields) -> Customer:
    """A customer row without going through the service (no audit): a fixture, not an action."""
    return Customer.objects.create(
        name=name,
        owner=owner,
        owner_department=owner.department,
        created_by=owner,
        updated_by=owner,
        **fields,
    )


def make_crm_cast() -> CrmCast:
    ensure_builtin_roles()
    ensure_default_stages()
    hq = Department.objects.create(code="HQ", name="总部")
    sales = Department.objects.create(code="SALES", name="销售部", parent=hq)
    sales_east = Department.objects.create(code="SALES-E", name="华东销售", parent=sales)
    service = Department.objects.create(code="SERVICE", name="客服部", parent=hq)
    head = make_employee("刘部长", roles=("department_head",), department=sales)
    sales.head = head
    sales.save()
    rep_a = make_employee("张三", roles=("sales",), department=sales, manager=head)
    rep_b = make_employee("李四", roles=("sales",), department=sales_east, manager=rep_a)
    rep_c = make_employee("王五", roles=("sales",), department=service)
    cast = CrmCast(
        hq=hq,
        sales=sales,
        sales_east=sales_east,
        service=service,
        admin=make_employee("王管理", roles=("system_admin",), department=hq),
        security_admin=make_employee("李安全", roles=("security_admin",), department=hq),
        auditor=make_employee("赵审计", roles=("auditor",), department=hq),
        head=head,
        rep_a=rep_a,
        rep_b=rep_b,
        rep_c=rep_c,
        agent=make_employee("陈客服", roles=("customer_service",), department=service),
        marketer=make_employee("周市场", roles=("marketing",), department=hq),
        nobody=make_employee("无角色", department=hq),
        customer_a=make_customer(
            rep_a,
            "上海甲公司",
            phone="+8613812341234",
            email="buyer@jia.example.cn",
            level="A",
            notes="大客户",
            address="上海市浦东新区",
        ),
        customer_b=make_customer(rep_b, "杭州乙公司", phone="+8613912345678", level="B"),
        customer_c=make_customer(rep_c, "北京丙公司", phone="+8613712345678"),
    )
    return cast
