"""Several hash chains: the `chain` column, the head trigger, and on PostgreSQL the sequence
that numbers events."""

from django.db import migrations, models

from gonghao.audit import guards

SEQUENCE = "audit_event_seq"


def install_triggers(apps, schema_editor):
    # SQLite adds a column by rebuilding the table, which drops its triggers.
    guards.install(schema_editor.connection)


def reinstall_guards_alone(apps, schema_editor):
    guards.install(schema_editor.connection, head_trigger=False)


def drop_head_trigger(apps, schema_editor):
    table = guards.TABLE
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS audit_chain_head_follows ON {table}")
        # installed here too since 0007's triggers replaced the per-event one
        schema_editor.execute(f"DROP TRIGGER IF EXISTS audit_chain_head_settles ON {table}")
    else:
        schema_editor.execute("DROP TRIGGER IF EXISTS audit_chain_head_follows")


def create_sequence(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM audit_auditevent")
        start = cursor.fetchone()[0]
        cursor.execute(f"CREATE SEQUENCE IF NOT EXISTS {SEQUENCE} START WITH {int(start)}")


def drop_sequence(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP SEQUENCE IF EXISTS {SEQUENCE}")


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_drop_indexes_covered_by_composites"),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, reinstall_guards_alone),
        migrations.AddField(
            model_name="auditevent",
            name="chain",
            field=models.PositiveSmallIntegerField(default=1, verbose_name="chain"),
        ),
        migrations.RunPython(install_triggers, drop_head_trigger),
        migrations.RunPython(create_sequence, drop_sequence),
    ]
