"""PostgreSQL: a chain's head moves once per transaction, at commit, instead of once per event
(see `guards.py`: n events in one transaction cost time quadratic in n). SQLite keeps its
per-event update, which costs the same for every event."""

from django.db import migrations

from gonghao.audit import guards


def head_moves_at_commit(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        guards.install(schema_editor.connection)


def head_moves_per_event(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            for statement in guards.POSTGRES_HEAD_FOLLOWS_PER_EVENT:
                cursor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0006_actor_without_index"),
    ]

    operations = [
        migrations.RunPython(head_moves_at_commit, head_moves_per_event),
    ]
