"""`seq` becomes the primary key of audit events and the surrogate `id` goes: one index less
for every audited write to update.

PostgreSQL: `id` is dropped (a catalogue change, no rewrite) and the unique index on `seq` is
rebuilt as the primary key (one index build). SQLite: the table is rebuilt, and `seq`, spelt
`integer`, becomes the rowid itself. Every event keeps its columns and values: `id` was never
hashed, shown or referenced.
"""

from django.db import migrations

import gonghao.audit.models
from gonghao.audit import guards


def install_triggers(apps, schema_editor):
    # SQLite rebuilds the table to change it, which drops its triggers.
    guards.install(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0004_several_chains"),
    ]

    operations = [
        # Reversed, the column changes rebuild the table again: reinstall after them.
        migrations.RunPython(migrations.RunPython.noop, install_triggers),
        migrations.RemoveField(model_name="auditevent", name="id"),
        migrations.AlterField(
            model_name="auditevent",
            name="seq",
            field=gonghao.audit.models.SequenceNumberField(
                primary_key=True, serialize=False, verbose_name="sequence number"
            ),
        ),
        migrations.RunPython(install_triggers, migrations.RunPython.noop),
    ]
