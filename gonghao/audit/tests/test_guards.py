"""The database itself refuses to change or remove audit events, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from gonghao.audit import guards
from gonghao.audit.models import AuditEvent
from gonghao.audit.services import verify_chain

from .util import TABLE, execute, installed_triggers, record_some

pytestmark = pytest.mark.django_db

REFUSED = "append-only"


@pytest.fixture
def events():
    return record_some(3)


def snapshot() -> list[tuple]:
    return list(AuditEvent.objects.order_by("seq").values_list("seq", "action", "hash"))


def refused(action) -> None:
    """Run `action`, expect the database to refuse it, and keep the test transaction usable."""
    with pytest.raises(DatabaseError, match=REFUSED):
        with transaction.atomic():
            action()


@pytest.mark.parametrize(
    "sql",
    [
        f"UPDATE {TABLE} SET action = 'auth.logout' WHERE seq = %s",
        f"UPDATE {TABLE} SET target_label = 'forged', hash = prev_hash WHERE seq = %s",
        f"UPDATE {TABLE} SET seq = seq + 1000 WHERE seq >= %s",
        f"DELETE FROM {TABLE} WHERE seq = %s",
        f"DELETE FROM {TABLE} WHERE seq >= %s",
    ],
)
def test_raw_sql_update_and_delete_are_refused(events, sql):
    before = snapshot()
    refused(lambda: execute(sql, [events[1].seq]))
    assert snapshot() == before
    assert verify_chain().ok


def test_queryset_update_is_refused(events):
    before = snapshot()
    refused(lambda: AuditEvent.objects.filter(seq=events[0].seq).update(target_label="forged"))
    refused(lambda: AuditEvent.objects.update(channel="web"))
    assert snapshot() == before
    assert AuditEvent.objects.filter(target_label="forged").count() == 0


def test_queryset_delete_is_refused(events):
    before = snapshot()
    refused(lambda: AuditEvent.objects.filter(seq=events[-1].seq).delete())
    refused(lambda: AuditEvent.objects.all().delete())
    assert snapshot() == before


def test_model_save_and_delete_are_refused(events):
    event = AuditEvent.objects.get(seq=events[1].seq)
    event.target_label = "forged"
    refused(event.save)
    refused(AuditEvent.objects.get(seq=events[1].seq).delete)
    assert AuditEvent.objects.get(seq=events[1].seq).target_label == ""
    assert verify_chain().ok


def test_truncate_is_refused_on_postgresql(events):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no TRUNCATE statement")
    before = snapshot()
    # The events' deferred head triggers would refuse the TRUNCATE first: fire them.
    execute("SET CONSTRAINTS ALL IMMEDIATE")
    refused(lambda: execute(f"TRUNCATE {TABLE}"))
    assert snapshot() == before


def test_appending_still_works(events):
    more = record_some(2)
    assert [e.seq for e in more] == [events[-1].seq + 1, events[-1].seq + 2]
    assert verify_chain().ok


def test_the_migration_installed_the_guards():
    expected = {
        "sqlite": {"audit_event_no_update", "audit_event_no_delete"},
        "postgresql": {"audit_event_no_change", "audit_event_no_truncate"},
    }[connection.vendor] | set(guards.HEAD_TRIGGERS[connection.vendor])
    assert installed_triggers() == expected


def test_removing_and_reinstalling_the_guards(events):
    guards.remove(connection)
    try:
        # The head trigger is not a guard: the chain needs it.
        assert installed_triggers() == set(guards.HEAD_TRIGGERS[connection.vendor])
        assert execute(f"UPDATE {TABLE} SET channel = 'web' WHERE seq = %s", [events[0].seq]) == 1
    finally:
        guards.install(connection)
    refused(lambda: execute(f"UPDATE {TABLE} SET channel = 'api' WHERE seq = %s", [events[0].seq]))
    assert AuditEvent.objects.get(seq=events[0].seq).channel == "web"
    # Installing twice is harmless (the migration and a repair may both run it).
    guards.install(connection)
    refused(lambda: AuditEvent.objects.all().delete())


def test_unknown_database_vendors_are_not_silently_unguarded():
    with pytest.raises(NotImplementedError, match="oracle"):
        guards.statements("oracle", create=True)
