import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# The index Django made for the foreign key in 0001 (same name on SQLite and PostgreSQL).
ACTOR_INDEX = "audit_auditevent_actor_id_270bb4b7"


class Migration(migrations.Migration):
    """Drop the actor_id index. Written as SQL because Django's AlterField would rebuild the
    whole table on SQLite (dropping the append-only triggers with it) and, for a foreign key
    without a constraint, leaves the index in place on PostgreSQL."""

    dependencies = [
        ("audit", "0005_seq_primary_key"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="auditevent",
                    name="actor",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="actor",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{ACTOR_INDEX}"',
                    f'CREATE INDEX "{ACTOR_INDEX}" ON "audit_auditevent" ("actor_id")',
                ),
            ],
        ),
    ]
