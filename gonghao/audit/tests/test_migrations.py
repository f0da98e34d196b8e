"""The audit migrations that reshape the table keep every event, the chain and the guards."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from gonghao.audit import guards
from gonghao.audit.chain import HASHED_FIELDS
from gonghao.audit.models import AuditChainHead, AuditEvent
from gonghao.audit.services import verify_chain

from .util import TABLE, execute, head, installed_triggers, record_some

BEFORE = ("audit", "0004_several_chains")
AFTER = ("audit", "0005_seq_primary_key")
WITHOUT_ACTOR_INDEX = ("audit", "0006_actor_without_index")
LATEST = ("audit", "0007_head_moves_at_commit")
ACTOR_INDEX = "audit_auditevent_actor_id_270bb4b7"
STORED = ("chain", *HASHED_FIELDS, "actor_id", "prev_hash", "hash")


def migrate_audit_to(target: tuple[str, str]) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate([target])


@pytest.fixture(autouse=True)
def back_to_the_latest_migration():
    """Leave the schema as every other test expects it, whatever a test migrated to."""
    yield
    migrate_audit_to(LATEST)


def index_names() -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.get_constraints(cursor, TABLE))


def stored_rows() -> list[dict]:
    return list(AuditEvent.objects.order_by("seq").values(*STORED))


def columns() -> list[str]:
    with connection.cursor() as cursor:
        return [c.name for c in connection.introspection.get_table_description(cursor, TABLE)]


def refuses_update() -> bool:
    try:
        with transaction.atomic():
            execute(f"UPDATE {TABLE} SET action = 'auth.logout'")
    except DatabaseError as error:
        return "append-only" in str(error)
    return False


@pytest.mark.django_db(transaction=True)
def test_seq_becomes_the_primary_key_and_every_event_stays_as_it_was(cast):
    record_some(2, actor=cast.auditor)
    before = stored_rows()

    migrate_audit_to(BEFORE)
    assert "id" in columns()  # the old shape, with its surrogate key, events intact
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT seq FROM {TABLE} ORDER BY seq")
        assert [row[0] for row in cursor.fetchall()] == [row["seq"] for row in before]
    migrate_audit_to(AFTER)

    assert "id" not in columns()
    assert AuditEvent._meta.pk.name == "seq"
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, TABLE)
    assert [c["columns"] for c in constraints.values() if c["primary_key"]] == [["seq"]]
    if connection.vendor == "sqlite":
        # `seq` is the rowid itself: SQLite built no separate index for the primary key.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = %s"
                " AND sql IS NULL",
                [TABLE],
            )
            assert cursor.fetchall() == []
    assert stored_rows() == before
    assert verify_chain().ok
    # The rebuilt table is guarded again, and its chain head follows new events.
    assert refuses_update()
    (event,) = record_some(1)
    assert head() == (event.seq, event.hash)
    assert stored_rows()[:-1] == before
    assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_the_actor_index_goes_and_events_guards_and_chain_stay(cast):
    record_some(2, actor=cast.auditor)
    before = stored_rows()
    migrate_audit_to(AFTER)
    assert ACTOR_INDEX in index_names()

    migrate_audit_to(WITHOUT_ACTOR_INDEX)

    assert ACTOR_INDEX not in index_names()
    assert {"audit_actor_time", "audit_target", "audit_action_time"} <= index_names()
    assert stored_rows() == before
    assert refuses_update()
    (event,) = record_some(1)
    assert head() == (event.seq, event.hash)
    assert verify_chain().ok


def head_triggers() -> set[str]:
    return installed_triggers() & {"audit_chain_head_follows", "audit_chain_head_settles"}


def head_row() -> tuple[int, str]:
    row = AuditChainHead.objects.order_by("-last_seq").first()
    return (row.last_seq, row.last_hash)


@pytest.mark.django_db(transaction=True)
def test_the_head_moves_at_commit_on_postgresql_and_back_per_event(cast):
    record_some(2, actor=cast.auditor)
    migrate_audit_to(WITHOUT_ACTOR_INDEX)
    assert head_triggers() == {"audit_chain_head_follows"}
    with transaction.atomic():  # before 0007, the head row moved with each event
        (event,) = record_some(1)
        assert head_row() == (event.seq, event.hash)

    migrate_audit_to(LATEST)

    assert head_triggers() == set(guards.HEAD_TRIGGERS[connection.vendor])
    with transaction.atomic():
        (event,) = record_some(1)
        assert head() == (event.seq, event.hash)
        if connection.vendor == "postgresql":  # the head row moves at commit
            assert head_row() != (event.seq, event.hash)
    assert head_row() == (event.seq, event.hash)
    assert refuses_update()
    assert verify_chain().ok
