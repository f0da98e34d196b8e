"""Seed the first built-in roles: the three separated duties of 等保2.0."""

from django.db import migrations

FIRST_ROLES = [
    ("system_admin", "系统管理员", "System administrator",
     ["employee.view", "employee.manage", "org.manage"]),
    ("security_admin", "安全管理员", "Security administrator",
     ["employee.view", "role.manage", "token.manage"]),
    ("auditor", "审计员", "Auditor", ["audit.view", "audit.verify"]),
]


def seed(apps, schema_editor):
    Role = apps.get_model("access", "Role")
    for code, name_zh, name_en, permissions in FIRST_ROLES:
        Role.objects.get_or_create(
            code=code,
            defaults={
                "name_zh": name_zh,
                "name_en": name_en,
                "permissions": permissions,
                "data_scope": "all",
                "is_builtin": True,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("access", "0002_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
