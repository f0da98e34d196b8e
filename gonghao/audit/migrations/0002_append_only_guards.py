"""Make the database itself refuse UPDATE and DELETE on audit events (SQLite and PostgreSQL)."""

from django.db import migrations

from gonghao.audit import guards


def install(apps, schema_editor):
    guards.install(schema_editor.connection, head_trigger=False)


def remove(apps, schema_editor):
    guards.remove(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(install, remove)]
