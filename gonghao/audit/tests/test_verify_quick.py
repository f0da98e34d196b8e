"""verify_chain() hashes each event from its values as the database holds them, and asks the
ORM's reading (the values `record` hashed) only when that disagrees: quicker, never another
verdict."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from gonghao.audit import registry, services
from gonghao.audit.models import AuditEvent
from gonghao.audit.services import VerifyResult, record, verify_chain
from gonghao.core import context

from .util import TABLE, execute, record_some

pytestmark = pytest.mark.django_db


@pytest.fixture
def second_readings(monkeypatch):
    """The seqs verify_chain read again through the ORM, in order."""
    asked: list[int] = []
    judge = services._recomputed_hash

    def counted(seq: int) -> str | None:
        asked.append(seq)
        return judge(seq)

    monkeypatch.setattr(services, "_recomputed_hash", counted)
    return asked


AWKWARD_TEXT = 'quote " backslash \\ tab \t newline \n bell \x07 del \x7f 客户 ü 🚀 \u2028'

# Each entry is one event: record()'s keyword arguments and the request context around it.
AWKWARD_EVENTS = [
    ({"target_label": AWKWARD_TEXT, "target_type": "crm.customer", "target_id": "7"}, {}),
    ({"params": {"z": 1, "a": [True, None, 1.5, -0.0, 10**20], "中": {"b": "\x00x", "a": ""}}}, {}),
    ({"changes": {"name": ["旧名", AWKWARD_TEXT], "level": [None, "A"]}}, {}),
    ({"params": {"big": 1e20, "small": 1e-7, "one": 1.0, "huge": 2**70}}, {}),
    ({}, {"client_ip": "2001:0DB8:0000::0001", "user_agent": AWKWARD_TEXT}),
    ({}, {"client_ip": "::ffff:10.0.0.1", "request_id": "r-\x01"}),
    ({}, {"client_ip": "fe80::1", "channel": "api"}),
    ({}, {"client_ip": "198.51.100.4"}),
]


def test_awkward_values_verify_without_a_second_reading(frozen_clock, second_readings):
    for kwargs, bound in AWKWARD_EVENTS:
        with context.bind(**bound):
            record(registry.AUDIT_VERIFIED, **kwargs)
        # Times with and without a fraction of a second (SQLite stores the second kind
        # without one).
        frozen_clock.current = frozen_clock.current.replace(microsecond=0)
        record(registry.AUDIT_VERIFIED)
        frozen_clock.advance(seconds=1, microseconds=1)

    result = verify_chain()

    assert result == VerifyResult(True, 2 * len(AWKWARD_EVENTS))
    assert second_readings == []


def test_a_quick_reading_that_disagrees_costs_time_not_the_verdict(
    unguarded, monkeypatch, second_readings
):
    record_some(4)
    monkeypatch.setattr(services, "_spelt_text", lambda *values: "not the canonical form")

    assert verify_chain() == VerifyResult(True, 4)
    assert second_readings == [1, 2, 3, 4]

    execute(f"UPDATE {TABLE} SET target_label = 'forged' WHERE seq = 3")
    assert verify_chain() == VerifyResult(False, 2, 3, "content")


def test_a_value_the_quick_reading_cannot_spell_is_read_again(monkeypatch, second_readings):
    record_some(2)

    def unspellable(*values):
        raise TypeError("a value of another type")

    monkeypatch.setattr(services, "_spelt_text", unspellable)

    assert verify_chain() == VerifyResult(True, 2)
    assert second_readings == [1, 2]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite keeps the time as text")
def test_a_time_stored_in_another_spelling_is_judged_by_the_orm(unguarded, second_readings):
    """The same instant written with an offset (as another tool might) is no change."""
    events = record_some(3)
    instant = events[1].occurred_at
    shanghai = instant.astimezone(ZoneInfo("Asia/Shanghai")).isoformat(" ")
    assert execute(f"UPDATE {TABLE} SET occurred_at = %s WHERE seq = 2", [shanghai]) == 1
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT CAST(occurred_at AS TEXT) FROM {TABLE} WHERE seq = 2")
        assert cursor.fetchone()[0] == shanghai

    assert verify_chain() == VerifyResult(True, 3)
    assert second_readings == [2]

    moved = datetime(2001, 1, 1, tzinfo=UTC).isoformat(" ")
    execute(f"UPDATE {TABLE} SET occurred_at = %s WHERE seq = 2", [moved])
    assert verify_chain() == VerifyResult(False, 1, 2, "content")


def test_a_value_of_another_type_is_a_change(unguarded):
    record_some(3)
    if connection.vendor == "sqlite":  # a column holds any type there
        execute(f"UPDATE {TABLE} SET occurred_at = %s WHERE seq = 2", ["not a time"])
        execute(f"UPDATE {TABLE} SET target_id = %s WHERE seq = 2", [42])
    else:
        execute(f"UPDATE {TABLE} SET params = %s::jsonb WHERE seq = 2", ['"a string"'])

    assert verify_chain() == VerifyResult(False, 1, 2, "content")
    assert AuditEvent.objects.count() == 3
