"""Fixtures of the onboarding tests: a department tree, a head, an approver, an outbox."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from gonghao.access.builtin import ensure_builtin_roles
from gonghao.accounts.models import Employee
from gonghao.org.models import Department
from gonghao.testing.kit import make_employee


@dataclass
class World:
    hq: Department
    sales: Department
    east: Department
    service: Department
    head: Employee  # department_head of SALES (tree: SALES, EAST)
    approver: Employee  # system_admin + sales
    nobody: Employee


def make_world() -> World:
    ensure_builtin_roles()
    hq = Department.objects.create(code="HQ", name="总部")
    sales = Department.objects.create(code="SALES", name="销售部", parent=hq)
    east = Department.objects.create(code="EAST", name="华东销售", parent=sales)
    service = Department.objects.create(code="SERVICE", name="客服部", parent=hq)
    return World(
        hq=hq,
        sales=sales,
        east=east,
        service=service,
        head=make_employee("钱部长", roles=("department_head",), department=sales),
        approver=make_employee("孙审批", roles=("system_admin", "sales"), department=hq),
        nobody=make_employee("周普通", department=sales),
    )


@pytest.fixture
def world(db) -> World:
    return make_world()


@pytest.fixture(autouse=True)
def outbox(settings, tmp_path):
    directory = tmp_path / "outbox"
    settings.GONGHAO_OUTBOX_DIR = directory
    settings.GONGHAO_EMAIL_BACKEND = "outbox"
    settings.GONGHAO_SMS_BACKEND = "outbox"
    return directory
