"""Give the built-in roles the dashboard permissions (appended: an administrator's own changes
to a role are kept)."""

from django.db import migrations


def seed(apps, schema_editor):
    from gonghao.access.builtin import ADDED_IN_REPORTS_0001

    Role = apps.get_model("access", "Role")
    for code, added in ADDED_IN_REPORTS_0001.items():
        role = Role.objects.filter(code=code, is_builtin=True).first()
        if role is not None:
            role.permissions = sorted(set(role.permissions) | set(added))
            role.save(update_fields=["permissions"])


class Migration(migrations.Migration):
    initial = True
    dependencies = [("access", "0005_builtin_roles_v2")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
