"""Issuing 工号: safe under concurrency, never reused, and employee creation around it."""

from __future__ import annotations

import pytest
from django.db import transaction

from gonghao.accounts.employee_ids import format_number, is_valid
from gonghao.accounts.models import (
    Employee,
    EmployeeIdCounter,
    EmployeeIdRecord,
    EmployeeIdState,
)
from gonghao.accounts.services import (
    InvalidEmployeeId,
    allocate_employee_id,
    create_employee,
    find_employee,
)
from gonghao.audit.models import AuditEvent
from gonghao.audit.services import verify_chain
from gonghao.core.errors import NotFound, PermissionDenied, ValidationFailed
from gonghao.testing.kit import PASSWORD, make_employee
from gonghao.testing.threads import run_together

THREADS = 50


def counter_value(prefix: str = "E") -> int:
    row = EmployeeIdCounter.objects.filter(prefix=prefix).first()
    return row.last_value if row else 0


def actions() -> list[str]:
    return list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))


# --- concurrency -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_fifty_simultaneous_allocations_get_fifty_distinct_numbers():
    assert not EmployeeIdCounter.objects.exists()  # the racers also race to create the counter
    issued, errors = run_together(
        lambda _index: allocate_employee_id(actor=None, purpose="concurrency").employee_id,
        THREADS,
        timeout=60,
    )

    assert errors == []
    assert len(issued) == THREADS
    assert len(set(issued)) == THREADS
    assert set(issued) == {format_number(n) for n in range(1, THREADS + 1)}
    assert counter_value() == THREADS
    assert EmployeeIdRecord.objects.count() == THREADS
    assert set(EmployeeIdRecord.objects.values_list("sequence", flat=True)) == set(
        range(1, THREADS + 1)
    )
    assert AuditEvent.objects.filter(action="employee_id.allocate").count() == THREADS
    result = verify_chain()
    assert result.ok, result
    assert result.checked == AuditEvent.objects.count()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_twenty_threads_allocating_fifty_each_get_a_thousand_distinct_numbers():
    def allocate_many(_index: int) -> list[str]:
        return [
            allocate_employee_id(actor=None, purpose="burst").employee_id for _n in range(50)
        ]

    batches, errors = run_together(allocate_many, 20, timeout=240)

    assert errors == []
    issued = [employee_id for batch in batches for employee_id in batch]
    assert len(issued) == 1000
    assert set(issued) == {format_number(n) for n in range(1, 1001)}
    assert counter_value() == 1000
    assert EmployeeIdRecord.objects.count() == 1000
    assert AuditEvent.objects.filter(action="employee_id.allocate").count() == 1000
    result = verify_chain()
    assert result.ok, result
    assert result.checked == 1000


# --- one allocation ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_allocation_registers_the_number_and_audits_it():
    entry = allocate_employee_id(actor=None, purpose="unit-test")
    assert entry.employee_id == "E0000017"
    assert is_valid(entry.employee_id)
    stored = EmployeeIdRecord.objects.get(employee_id=entry.employee_id)
    assert (stored.prefix, stored.sequence, stored.state) == ("E", 1, EmployeeIdState.RESERVED)
    assert stored.holder is None
    assert stored.purpose == "unit-test"
    event = AuditEvent.objects.get(action="employee_id.allocate")
    assert event.target_label == entry.employee_id
    assert event.target_id == str(entry.pk)
    assert event.params == {"purpose": "unit-test"}
    assert event.actor_kind == "system"


# --- never reused ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_number_of_a_deleted_employee_is_never_issued_again():
    employee, _password = create_employee(
        actor=None, name="离职者", check_permission=False, password=None
    )
    old = employee.employee_id
    Employee.objects.filter(pk=employee.pk).delete()

    kept = EmployeeIdRecord.objects.get(employee_id=old)
    assert kept.holder is None
    assert kept.state == EmployeeIdState.ASSIGNED

    assert allocate_employee_id(actor=None, purpose="test").employee_id != old
    # Even with the counter wound back, the registry keeps the old number out.
    EmployeeIdCounter.objects.filter(prefix="E").update(last_value=0)
    again = allocate_employee_id(actor=None, purpose="test")
    assert again.employee_id != old
    assert again.sequence == 3
    assert EmployeeIdRecord.objects.filter(employee_id=old).count() == 1


@pytest.mark.django_db
def test_an_allocation_that_rolled_back_was_never_issued():
    before = counter_value()
    events = AuditEvent.objects.count()
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            lost = allocate_employee_id(actor=None, purpose="test").employee_id
            raise RuntimeError("the surrounding work failed")

    assert not EmployeeIdRecord.objects.filter(employee_id=lost).exists()
    assert counter_value() == before
    assert AuditEvent.objects.count() == events
    # Never issued, so it is the next one handed out (no gap in the registry).
    assert allocate_employee_id(actor=None, purpose="test").employee_id == lost


@pytest.mark.django_db
def test_a_retired_number_is_never_handed_out_again():
    entry = allocate_employee_id(actor=None, purpose="reserve")
    entry.state = EmployeeIdState.RETIRED
    entry.save(update_fields=["state"])

    following = allocate_employee_id(actor=None, purpose="test")
    assert following.employee_id != entry.employee_id

    EmployeeIdCounter.objects.filter(prefix="E").update(last_value=0)
    issued = {allocate_employee_id(actor=None, purpose="test").employee_id for _ in range(3)}
    assert entry.employee_id not in issued
    assert following.employee_id not in issued
    assert EmployeeIdRecord.objects.get(employee_id=entry.employee_id).state == "retired"
    assert EmployeeIdRecord.objects.filter(employee_id=entry.employee_id).count() == 1


@pytest.mark.django_db
def test_numbers_already_in_the_registry_are_skipped():
    for sequence in (1, 2, 4):
        EmployeeIdRecord.objects.create(
            employee_id=format_number(sequence),
            prefix="E",
            sequence=sequence,
            state=EmployeeIdState.ASSIGNED,
            purpose="import",
        )
    first = allocate_employee_id(actor=None, purpose="test")
    second = allocate_employee_id(actor=None, purpose="test")
    assert first.employee_id == format_number(3)
    assert second.employee_id == format_number(5)
    assert counter_value() == 5
    assert EmployeeIdRecord.objects.count() == 5


@pytest.mark.django_db
def test_an_imported_sequence_under_another_text_is_skipped_too():
    # A legacy number without a check digit, imported with its sequence.
    EmployeeIdRecord.objects.create(
        employee_id="E000002", prefix="E", sequence=2, state=EmployeeIdState.ASSIGNED
    )
    issued = [allocate_employee_id(actor=None, purpose="test") for _ in range(2)]
    assert [entry.sequence for entry in issued] == [1, 3]


# --- creating employees (service) --------------------------------------------------------------


@pytest.mark.django_db
def test_create_employee_issues_a_number_and_a_one_time_password(cast):
    before = list(AuditEvent.objects.values_list("seq", flat=True))
    employee, one_time = create_employee(
        actor=cast.admin,
        name="  新同事  ",
        department=cast.sales_dept,
        phone="13800138000",
        email="xin@example.com",
    )
    assert is_valid(employee.employee_id)
    assert employee.name == "新同事"
    assert employee.is_active
    assert employee.must_change_password is True
    assert one_time and employee.check_password(one_time)
    assert str(employee.phone) == "+8613800138000"

    entry = EmployeeIdRecord.objects.get(employee_id=employee.employee_id)
    assert entry.state == EmployeeIdState.ASSIGNED
    assert entry.holder_id == employee.pk

    new_events = list(AuditEvent.objects.exclude(seq__in=before).order_by("seq"))
    assert [e.action for e in new_events] == ["employee_id.allocate", "employee.create"]
    created = new_events[1]
    assert created.actor_employee_id == cast.admin.employee_id
    assert created.target_label.startswith(employee.employee_id)
    assert created.changes["name"] == [None, "新同事"]
    assert created.changes["department"] == [None, cast.sales_dept.pk]
    assert one_time not in str(created.changes) and one_time not in str(created.params)
    assert verify_chain().ok


@pytest.mark.django_db
def test_create_employee_with_a_chosen_password_forces_no_change(cast):
    employee, one_time = create_employee(actor=cast.admin, name="自定密码", password=PASSWORD)
    assert one_time is None
    assert employee.must_change_password is False
    assert employee.check_password(PASSWORD)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields",
    [
        {"name": ""},
        {"name": "   "},
        {"name": "长" * 101},
        {"name": "ok", "email": "not-an-email"},
        {"name": "ok", "phone": "12345"},
        {"name": "ok", "password": "short"},
    ],
)
def test_invalid_employee_changes_nothing(cast, fields):
    counts = (
        Employee.objects.count(),
        EmployeeIdRecord.objects.count(),
        AuditEvent.objects.count(),
        counter_value(),
    )
    with pytest.raises(ValidationFailed) as caught:
        create_employee(actor=cast.admin, **fields)
    assert caught.value.status == 422
    assert caught.value.field_errors
    after = (
        Employee.objects.count(),
        EmployeeIdRecord.objects.count(),
        AuditEvent.objects.count(),
        counter_value(),
    )
    assert after == counts


@pytest.mark.django_db
def test_only_employee_managers_create_employees(cast):
    counts = (Employee.objects.count(), EmployeeIdRecord.objects.count())
    for actor in (cast.employee, cast.auditor, cast.security_admin):
        with pytest.raises(PermissionDenied):
            create_employee(actor=actor, name="越权")
    assert (Employee.objects.count(), EmployeeIdRecord.objects.count()) == counts


# --- finding employees -------------------------------------------------------------------------


@pytest.mark.django_db
def test_find_employee_normalises_checks_and_looks_up():
    employee = make_employee("查找")
    eid = employee.employee_id
    assert find_employee(eid) == employee
    assert find_employee(f"  {eid.lower()[:4]}-{eid[4:]} ") == employee
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in eid)
    assert find_employee(full_width) == employee

    typo = eid[:-1] + str((int(eid[-1]) + 1) % 10)
    for bad in (typo, "", "hello", "E12"):
        with pytest.raises(InvalidEmployeeId) as caught:
            find_employee(bad)
        assert caught.value.code == "invalid_employee_id"
        assert caught.value.status == 400

    with pytest.raises(NotFound) as caught:
        find_employee(format_number(999_999))
    assert caught.value.code == "employee_not_found"
