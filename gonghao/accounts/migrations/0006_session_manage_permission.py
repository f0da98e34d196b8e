"""Give the built-in security administrator the permission to see and end other employees'
sessions (appended: an administrator's own changes to the role are kept)."""

from django.db import migrations


def seed(apps, schema_editor):
    from gonghao.access.builtin import ADDED_IN_ACCOUNTS_0006

    Role = apps.get_model("access", "Role")
    for code, added in ADDED_IN_ACCOUNTS_0006.items():
        role = Role.objects.filter(code=code, is_builtin=True).first()
        if role is not None:
            role.permissions = sorted(set(role.permissions) | set(added))
            role.save(update_fields=["permissions"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_token_authenticated_at"),
        ("access", "0006_role_login_restrictions"),
    ]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
