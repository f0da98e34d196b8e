"""Prepared queries (core/prepared.py): compiled once per connection and shape, run with new
values, giving what the plain QuerySet gives."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import CharField, DateTimeField, F, IntegerField, Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gonghao.access.models import RoleGrant
from gonghao.accounts.models import Employee
from gonghao.core.prepared import Bound, BoundList, InList, PreparedQuery
from gonghao.testing.crm import make_crm_cast
from gonghao.testing.kit import make_employee

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(db):
    return make_crm_cast()


@pytest.fixture
def staff(cast):
    return [cast.admin, cast.auditor, cast.rep_a, cast.rep_b]


def test_rows_and_related_rows_are_those_of_the_plain_queryset(staff):
    by_id = PreparedQuery(
        lambda: Employee.objects.select_related("department").filter(
            pk=Bound("pk", IntegerField())
        )[:1]
    )
    for employee in staff:
        found = by_id.first(pk=employee.pk)
        assert (found.pk, found.employee_id, found.name) == (
            employee.pk,
            employee.employee_id,
            employee.name,
        )
        # select_related came with the row: reading the department runs no query.
        with CaptureQueriesContext(connection) as queries:
            assert found.department.pk == employee.department_id
        assert len(queries) == 0
    assert by_id.first(pk=-1) is None


def test_the_query_is_built_once_per_connection_and_shape(staff):
    builds: list[tuple] = []

    def build(limit: int):
        builds.append((limit,))
        return Employee.objects.filter(employee_id=Bound("id", CharField())).order_by("pk")[
            :limit
        ]

    prepared = PreparedQuery(build)
    for employee in staff:
        assert [e.pk for e in prepared.all(1, id=employee.employee_id)] == [employee.pk]
    assert builds == [(1,)]
    prepared.all(2, id=staff[0].employee_id)
    assert builds == [(1,), (2,)]


def test_datetimes_are_adapted_as_the_orm_would(cast):
    grant = RoleGrant.objects.filter(employee=cast.auditor).first()
    in_force_at = PreparedQuery(
        lambda: RoleGrant.objects.in_force(now=Bound("now", DateTimeField())).filter(
            employee_id=Bound("employee", IntegerField())
        )
    )
    now = timezone.now()
    assert [g.pk for g in in_force_at.all(now=now, employee=cast.auditor.pk)] == [grant.pk]
    RoleGrant.objects.filter(pk=grant.pk).update(expires_at=now + timedelta(hours=1))
    assert [g.pk for g in in_force_at.all(now=now, employee=cast.auditor.pk)] == [grant.pk]
    later = now + timedelta(hours=2)
    assert in_force_at.all(now=later, employee=cast.auditor.pk) == []
    assert list(RoleGrant.objects.in_force(now=later).filter(employee=cast.auditor)) == []


def test_bound_lists_and_counts(staff, cast):
    extra = [make_employee(f"员工{n}", department=cast.hq) for n in range(3)]
    wanted = [staff[0].pk, extra[1].pk, extra[2].pk]

    def build(length: int):
        return Employee.objects.filter(
            Q(InList(F("pk"), BoundList("ids", length))) | Q(name=Bound("name", CharField()))
        ).order_by("pk")

    prepared = PreparedQuery(build)
    found = prepared.all(3, ids=wanted, name="no such name")
    assert [e.pk for e in found] == sorted(wanted)
    assert prepared.count(3, ids=wanted, name=extra[0].name) == 4
    assert prepared.count(3, ids=wanted, name=extra[0].name) == (
        Employee.objects.filter(Q(pk__in=wanted) | Q(name=extra[0].name)).count()
    )
    with pytest.raises(ValueError):
        BoundList("ids", 0)


def test_a_missing_value_fails_loudly(staff):
    prepared = PreparedQuery(lambda: Employee.objects.filter(pk=Bound("pk", IntegerField())))
    with pytest.raises(KeyError):
        prepared.all()


def test_delete_removes_the_rows_the_queryset_names_and_no_other(staff, cast):
    extra = [make_employee(f"待删{n}", department=cast.hq) for n in range(3)]
    grants = PreparedQuery(
        lambda: RoleGrant.objects.filter(employee_id=Bound("employee", IntegerField()))
    )
    kept = RoleGrant.objects.exclude(employee=cast.auditor).count()
    assert RoleGrant.objects.filter(employee=cast.auditor).exists()
    assert grants.delete(employee=cast.auditor.pk) == 1
    assert not RoleGrant.objects.filter(employee=cast.auditor).exists()
    assert RoleGrant.objects.count() == kept
    assert grants.delete(employee=extra[0].pk) == 0
    # Compiled once: the second delete runs the kept statement with the new value.
    with CaptureQueriesContext(connection) as queries:
        grants.delete(employee=cast.rep_a.pk)
    assert len(queries) == 1 and queries[0]["sql"].lstrip().upper().startswith("DELETE")
    assert not RoleGrant.objects.filter(employee=cast.rep_a).exists()


def test_the_columns_converters_are_worked_out_once_and_still_applied(cast, monkeypatch):
    from django.db.models.sql.compiler import SQLCompiler

    worked_out: list[int] = []
    original = SQLCompiler.get_converters

    def counted(self, expressions):
        worked_out.append(len(expressions))
        return original(self, expressions)

    monkeypatch.setattr(SQLCompiler, "get_converters", counted)
    grants = PreparedQuery(
        lambda: RoleGrant.objects.filter(employee_id=Bound("employee", IntegerField()))
    )
    expected = list(RoleGrant.objects.filter(employee=cast.auditor).values_list("granted_at"))
    worked_out.clear()
    for _run in range(3):
        (grant,) = grants.all(employee=cast.auditor.pk)
        # converted as the ORM converts it (SQLite hands back text), on every run
        assert (grant.granted_at,) == expected[0]
        assert grant.granted_at.tzinfo is not None
    assert len(worked_out) == 1
