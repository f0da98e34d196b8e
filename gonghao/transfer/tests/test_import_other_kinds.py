"""Importing contacts (onto customers the importer may edit) and employees (administrators)."""

from __future__ import annotations

import pytest

from gonghao.access.services import grant_role, roles_of
from gonghao.accounts.models import Employee
from gonghao.audit.models import AuditEvent
from gonghao.core.errors import Conflict, PermissionDenied
from gonghao.crm.models import Contact
from gonghao.messaging.models import Message
from gonghao.testing.crm import make_crm_cast
from gonghao.transfer import services
from gonghao.transfer.models import ImportedRecord, ImportStatus

from .helpers import csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db

CONTACT_HEADER = ["客户ID", "姓名", "职务", "电话", "邮箱", "微信号", "主联系人"]
EMPLOYEE_HEADER = [
    "Name",
    "Department code",
    "Manager 工号",
    "Phone",
    "E-mail",
    "Hire date",
    "Roles",
]


@pytest.fixture
def crm():
    return make_crm_cast()


def codes(batch):
    return [(e["row"], e["column"], e["code"]) for e in batch.errors]


def run(actor, kind, content, name="f.csv"):
    return services.create_import(actor=actor, kind=kind, file_name=name, content=content)


def test_contacts_import_within_the_edit_scope(crm):
    a, b, c = crm.customer_a.pk, crm.customer_b.pk, crm.customer_c.pk
    rows = [
        [str(a), "王经理", "采购", "13700001111", "w@a.cn", "wx_w", "是"],
        [str(b), "李工", "", "", "", "", "0"],
        [str(c), "外部", "", "", "", "", ""],  # rep_c's customer: outside the head's scope
        [str(a), "第二主", "", "", "", "", "1"],  # a second primary for the same customer
        ["abc", "坏ID", "", "", "", "", "maybe"],
        [str(a), "", "", "12", "bad", "has space", ""],
    ]
    batch = run(crm.head, "contacts", xlsx_bytes(CONTACT_HEADER, rows), name="c.xlsx")
    assert codes(batch) == [
        (4, "customer_id", "unknown_customer"),
        (5, "is_primary", "primary_taken"),
        (6, "customer_id", "unknown_customer"),
        (6, "is_primary", "invalid_boolean"),
        (7, "phone", "invalid_phone"),
    ]
    good = run(crm.head, "contacts", csv_bytes(CONTACT_HEADER, rows[:2], "gbk"))
    assert good.errors == [] and good.encoding == "gbk"
    services.commit_import(good.pk, actor=crm.head)
    wang = Contact.objects.get(name="王经理")
    assert (wang.customer_id, wang.is_primary, wang.phone) == (a, True, "+8613700001111")
    assert ImportedRecord.objects.filter(batch=good, kind="contact").count() == 2
    event = AuditEvent.objects.get(action="import.commit")
    assert event.params["kind"] == "contacts" and event.params["created"] == 2


def test_contacts_import_needs_customer_edit(crm):
    with pytest.raises(PermissionDenied):
        run(crm.agent, "contacts", csv_bytes(CONTACT_HEADER, [[str(crm.customer_a.pk), "x"]]))


def test_employees_import_by_an_administrator(crm, settings):
    rows = [
        ["新员工甲", "SALES", crm.head.employee_id, "13600001111", "", "2026-12-01", ""],
        ["New Hire", "sales-e", "", "", "new.hire@example.cn", "2026/12/02", ""],
    ]
    batch = run(crm.admin, "employees", csv_bytes(EMPLOYEE_HEADER, rows))
    assert batch.errors == []
    before = Message.objects.count()
    services.commit_import(batch.pk, actor=crm.admin)
    jia = Employee.objects.get(name="新员工甲")
    hire = Employee.objects.get(name="New Hire")
    assert jia.department == crm.sales and jia.manager == crm.head and jia.must_change_password
    assert hire.department == crm.sales_east and str(hire.hire_date) == "2026-12-02"
    assert jia.employee_id != hire.employee_id and jia.status == "active"
    # initial passwords go out as the onboarding path sends them: e-mail, else SMS
    messages = list(Message.objects.order_by("id")[before:])
    assert [(m.channel, m.template) for m in messages] == [
        ("sms", "account.initial_password"),
        ("email", "account.initial_password"),
    ]
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert actions.count("employee.create") >= 2 and actions.count("import.commit") == 1
    linked = set(ImportedRecord.objects.filter(kind="employee").values_list("object_id", flat=True))
    assert linked == {jia.pk, hire.pk}


def test_employee_rows_are_checked(crm):
    rows = [
        ["", "SALES", "", "", "a@b.cn", "", ""],
        ["甲", "NOPE", "", "", "a@b.cn", "", ""],
        ["乙", "", "E0000000", "", "a@b.cn", "31/31/2026", ""],
        ["丙", "", "", "", "", "", ""],
        ["丁", "", "", "", "d@b.cn", "", "sales"],  # the system administrator cannot grant roles
    ]
    batch = run(crm.admin, "employees", csv_bytes(EMPLOYEE_HEADER, rows))
    assert codes(batch) == [
        (2, "name", "required"),
        (3, "department", "unknown_department"),
        (4, "manager", "invalid_employee_id"),
        (4, "hire_date", "invalid_date"),
        (5, "email", "no_delivery"),
        (6, "roles", "roles_not_allowed"),
    ]


def test_roles_by_code_when_the_importer_may_grant_them(crm):
    grant_role(crm.admin, "security_admin", actor=None, check_permission=False)
    rows = [
        ["带角色", "SALES", "", "", "r@b.cn", "", "sales, marketing"],
        ["坏角色", "", "", "", "x@b.cn", "", "pilot"],
    ]
    batch = run(crm.admin, "employees", csv_bytes(EMPLOYEE_HEADER, rows))
    assert codes(batch) == [(3, "roles", "unknown_role")]
    good = run(crm.admin, "employees", csv_bytes(EMPLOYEE_HEADER, rows[:1]))
    services.commit_import(good.pk, actor=crm.admin)
    assert {r.code for r in roles_of(Employee.objects.get(name="带角色"))} == {"sales", "marketing"}


def test_a_refused_row_at_commit_rolls_back_every_employee(crm):
    grant_role(crm.admin, "security_admin", actor=None, check_permission=False)
    # The second row asks for auditor + system_admin: separation of duties refuses it.
    rows = [
        ["先建的", "", "", "", "first@b.cn", "", ""],
        ["冲突", "", "", "", "sod@b.cn", "", "auditor,system_admin"],
    ]
    batch = run(crm.admin, "employees", csv_bytes(EMPLOYEE_HEADER, rows))
    assert batch.errors == []
    counts = (Employee.objects.count(), AuditEvent.objects.count(), Message.objects.count())
    with pytest.raises(Conflict) as refused:
        services.commit_import(batch.pk, actor=crm.admin)
    assert refused.value.code == "import_failed" and refused.value.details == {"row": 3}
    assert (Employee.objects.count(), AuditEvent.objects.count(), Message.objects.count()) == counts
    batch.refresh_from_db()
    assert batch.status == ImportStatus.INVALID and codes(batch) == [(3, "", "commit_failed")]


@pytest.mark.parametrize("who", ["head", "rep_a", "security_admin", "auditor"])
def test_employees_import_is_for_administrators(crm, who):
    with pytest.raises(PermissionDenied):
        run(getattr(crm, who), "employees", csv_bytes(EMPLOYEE_HEADER, [["x"]]))
