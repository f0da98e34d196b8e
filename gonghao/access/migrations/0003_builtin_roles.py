"""Seed the built-in roles: the three separated duties of 等保2.0."""

from django.db import migrations

from gonghao.access.builtin import BUILTIN_ROLES, ensure_builtin_roles


def seed(apps, schema_editor):
    ensure_builtin_roles(apps.get_model("access", "Role"))


def unseed(apps, schema_editor):
    Role = apps.get_model("access", "Role")
    Role.objects.filter(code__in=[r["code"] for r in BUILTIN_ROLES], grants__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("access", "0002_initial")]
    operations = [migrations.RunPython(seed, unseed)]
