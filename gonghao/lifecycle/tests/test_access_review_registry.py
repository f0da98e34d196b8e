"""The registries behind access reviews: every audit action classified for "last used", the
new permissions in the catalogue and in the built-in roles (migrated and re-seeded), and the
reminder template in both languages."""

from __future__ import annotations

import pytest

from gonghao.access.builtin import ensure_builtin_roles
from gonghao.access.catalogue import PERMISSIONS
from gonghao.access.models import Role
from gonghao.audit.registry import all_actions, is_registered
from gonghao.lifecycle import usage
from gonghao.messaging import templates


def test_every_audit_action_is_classified_as_evidence_or_not():
    unclassified = sorted(
        a.code
        for a in all_actions()
        if a.code not in usage.EVIDENCE and a.code not in usage.NOT_EVIDENCE
    )
    assert unclassified == [], (
        "Say in gonghao/lifecycle/usage.py which permissions these actions need "
        "(EVIDENCE) or that they prove none (NOT_EVIDENCE)"
    )


def test_the_mapping_names_only_registered_actions_and_known_permissions():
    assert not set(usage.EVIDENCE) & usage.NOT_EVIDENCE
    for action, permissions in usage.EVIDENCE.items():
        assert is_registered(action), action
        assert permissions and permissions <= set(PERMISSIONS), action
    assert all(is_registered(a) for a in usage.NOT_EVIDENCE)


def test_actions_for_a_role_follow_its_permissions():
    assert usage.actions_for(["customer.export"]) == {"customer.export"}
    assert "customer.update" in usage.actions_for(["customer.edit"])
    assert "customer.update" in usage.actions_for(["customer.view"])
    assert usage.actions_for(["audit.view"]) == set()


def test_the_permissions_are_in_the_catalogue():
    assert {"access_review.manage", "role_request.approve"} <= set(PERMISSIONS)


@pytest.mark.django_db
def test_migrated_administrative_roles_have_them():
    for code in ("system_admin", "security_admin"):
        permissions = Role.objects.get(code=code).permissions
        assert {"access_review.manage", "role_request.approve"} <= set(permissions), code
    for code in ("auditor", "department_head", "sales"):
        assert "access_review.manage" not in Role.objects.get(code=code).permissions


@pytest.mark.django_db(transaction=True)
def test_reseeded_roles_agree_with_the_migration():
    Role.objects.all().delete()
    ensure_builtin_roles()
    for code in ("system_admin", "security_admin"):
        permissions = Role.objects.get(code=code).permissions
        assert {"access_review.manage", "role_request.approve"} <= set(permissions), code


@pytest.mark.django_db
def test_the_migration_appends_and_keeps_an_administrators_changes():
    from importlib import import_module

    from django.apps import apps

    migration = import_module("gonghao.lifecycle.migrations.0004_access_review_permissions")
    role = Role.objects.get(code="security_admin")
    role.permissions = ["role.manage", "my.custom"]
    role.save()
    migration.seed(apps, None)
    role.refresh_from_db()
    assert role.permissions == [
        "access_review.manage",
        "my.custom",
        "role.manage",
        "role_request.approve",
    ]


@pytest.mark.parametrize("language,word", [("zh-hans", "审核"), ("en", "review")])
def test_the_reminder_is_written_in_both_languages(language, word):
    rendered = templates.render(
        "access_review.reminder",
        language,
        {"name": "钱部长", "campaign": "Q4", "pending": 3, "due_date": "2026-12-31"},
    )
    assert word in rendered.subject + rendered.body
    assert "2026-12-31" in rendered.body and "3" in rendered.body
