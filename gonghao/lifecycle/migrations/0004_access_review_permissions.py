"""Give the built-in administrative roles the access-review and role-request permissions
(appended: an administrator's own changes to a role are kept)."""

from django.db import migrations


def seed(apps, schema_editor):
    from gonghao.access.builtin import ADDED_IN_LIFECYCLE_0004

    Role = apps.get_model("access", "Role")
    for code, added in ADDED_IN_LIFECYCLE_0004.items():
        role = Role.objects.filter(code=code, is_builtin=True).first()
        if role is not None:
            role.permissions = sorted(set(role.permissions) | set(added))
            role.save(update_fields=["permissions"])


class Migration(migrations.Migration):
    dependencies = [
        ("lifecycle", "0003_access_reviews_and_role_requests"),
        ("access", "0006_role_change_approval"),
    ]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
