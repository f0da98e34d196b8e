"""Service-level edges: a retired or assigned 工号 is never given to a new employee; messages
in the request's language."""

from __future__ import annotations

import pytest

from gonghao.accounts.models import Employee, EmployeeIdState
from gonghao.accounts.services import allocate_employee_id, create_employee_with_id
from gonghao.audit.models import AuditEvent
from gonghao.core.errors import GonghaoError
from gonghao.testing.kit import api_for


@pytest.mark.django_db
@pytest.mark.parametrize("state", [EmployeeIdState.RETIRED, EmployeeIdState.ASSIGNED])
def test_only_a_reserved_employee_id_can_be_given(state):
    entry = allocate_employee_id(actor=None, purpose="onboarding")
    entry.state = state
    entry.save(update_fields=["state"])
    events = AuditEvent.objects.count()
    with pytest.raises(GonghaoError) as raised:
        create_employee_with_id(actor=None, id_entry=entry, name="不该有")
    assert raised.value.code == "employee_id_not_reserved"
    assert raised.value.status == 409
    assert not Employee.objects.filter(employee_id=entry.employee_id).exists()
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_create_employee_with_id_assigns_the_reserved_number():
    entry = allocate_employee_id(actor=None, purpose="onboarding")
    employee, password = create_employee_with_id(
        actor=None, id_entry=entry, name="  新员工 ", audit_params={"request": 7}
    )
    entry.refresh_from_db()
    assert (employee.employee_id, employee.name) == (entry.employee_id, "新员工")
    assert (entry.state, entry.holder) == (EmployeeIdState.ASSIGNED, employee)
    assert password and employee.must_change_password and employee.check_password(password)
    event = AuditEvent.objects.get(action="employee.create")
    assert event.params == {"request": 7}


@pytest.mark.django_db
def test_refusals_are_in_the_callers_language(world):
    created = api_for(world.head).post(
        "/api/v1/employee-requests", {"name": "甲", "department_id": world.sales.pk}
    )
    request_id = created.json()["id"]
    both = api_for(world.head, language="zh-hans")
    response = both.post(f"/api/v1/employee-requests/{request_id}/reject", {"reason": "x"})
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in response.json()["message"])
