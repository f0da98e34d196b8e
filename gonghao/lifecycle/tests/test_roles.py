"""The built-in roles carry the onboarding permissions, on migrated and re-seeded databases."""

from __future__ import annotations

import pytest

from gonghao.access.builtin import ensure_builtin_roles
from gonghao.access.catalogue import PERMISSIONS
from gonghao.access.models import Role


def test_permissions_are_in_the_catalogue():
    assert {"employee.request", "employee.approve"} <= set(PERMISSIONS)


@pytest.mark.django_db
def test_migrated_roles_have_the_onboarding_permissions():
    assert "employee.request" in Role.objects.get(code="department_head").permissions
    assert "employee.approve" in Role.objects.get(code="system_admin").permissions
    assert "employee.approve" not in Role.objects.get(code="department_head").permissions


@pytest.mark.django_db(transaction=True)
def test_reseeded_roles_agree_with_the_migration():
    Role.objects.all().delete()
    ensure_builtin_roles()
    assert "employee.request" in Role.objects.get(code="department_head").permissions
    assert "employee.approve" in Role.objects.get(code="system_admin").permissions


@pytest.mark.django_db
def test_the_migration_appends_and_keeps_an_administrators_changes():
    from importlib import import_module

    from django.apps import apps

    migration = import_module("gonghao.lifecycle.migrations.0002_role_permissions")
    role = Role.objects.get(code="department_head")
    role.permissions = ["customer.view", "my.custom"]
    role.save()
    migration.seed(apps, None)
    role.refresh_from_db()
    assert role.permissions == ["customer.view", "employee.request", "my.custom"]
