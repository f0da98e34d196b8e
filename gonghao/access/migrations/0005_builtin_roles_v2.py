"""Seed the business roles (department head, sales, customer service, marketing), the
segregation-of-duties defaults, and bring the administrative roles to their current sets."""

from django.db import migrations

from gonghao.access.builtin import BUILTIN_ROLES, BUILTIN_SOD_RULES


def seed(apps, schema_editor):
    Role = apps.get_model("access", "Role")
    SodRule = apps.get_model("access", "SodRule")
    for role in BUILTIN_ROLES:
        Role.objects.update_or_create(code=role["code"], defaults={**role, "is_builtin": True})
    for rule in BUILTIN_SOD_RULES:
        SodRule.objects.get_or_create(code=rule["code"], defaults=rule)


class Migration(migrations.Migration):
    dependencies = [("access", "0004_roles_hidden_fields_sod")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
