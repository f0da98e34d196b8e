"""verify_chain() finds rows changed, removed or cut off behind the database's back."""

from __future__ import annotations

import json

import pytest

from gonghao.audit.chain import GENESIS_HASH, HASHED_FIELDS, compute_hash
from gonghao.audit.models import AuditEvent
from gonghao.audit.services import VerifyResult, seq_is_gapless, verify_chain

from .util import TABLE, execute, record_some

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(unguarded):
    """Five events on an otherwise empty log, with the guards dropped by an attacker."""
    assert not AuditEvent.objects.exists()
    events = record_some(5)
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert verify_chain() == VerifyResult(True, 5)
    return events


@pytest.mark.parametrize(
    "column, value",
    [
        ("target_label", "forged"),
        ("action", "auth.logout"),
        ("actor_employee_id", "E0000017"),
        ("actor_kind", "anonymous"),
        ("channel", "web"),
        ("client_ip", "192.0.2.1"),
        ("params", json.dumps({"result": "ok", "checked": 999})),
    ],
)
def test_a_changed_row_is_named_by_its_seq(chain, column, value):
    assert execute(f"UPDATE {TABLE} SET {column} = %s WHERE seq = 3", [value]) == 1

    assert verify_chain() == VerifyResult(False, 2, 3, "content")


def test_a_changed_time_is_found(chain):
    moved = chain[3].occurred_at.replace(year=2001)
    execute(f"UPDATE {TABLE} SET occurred_at = %s WHERE seq = 4", [moved])

    assert verify_chain() == VerifyResult(False, 3, 4, "content")


def test_recomputing_the_hash_of_a_forged_row_breaks_the_next_link(chain):
    forged = AuditEvent.objects.filter(seq=2).values(*HASHED_FIELDS, "prev_hash")[0]
    forged["target_label"] = "forged"
    new_hash = compute_hash(forged, forged["prev_hash"])
    execute(f"UPDATE {TABLE} SET target_label = %s, hash = %s WHERE seq = 2", ["forged", new_hash])

    assert verify_chain() == VerifyResult(False, 2, 3, "link")


def test_a_changed_link_is_found(chain):
    execute(f"UPDATE {TABLE} SET prev_hash = %s WHERE seq = 4", [GENESIS_HASH])

    assert verify_chain() == VerifyResult(False, 3, 4, "link")


def test_a_deleted_middle_row_is_missing(chain):
    assert execute(f"DELETE FROM {TABLE} WHERE seq = 3") == 1

    if seq_is_gapless():
        assert verify_chain() == VerifyResult(False, 2, 3, "missing")
    else:  # numbers may have gaps: the next event's broken link gives it away
        assert verify_chain() == VerifyResult(False, 2, 4, "link")


def test_a_deleted_first_row_is_missing(chain):
    execute(f"DELETE FROM {TABLE} WHERE seq = 1")

    if seq_is_gapless():
        assert verify_chain() == VerifyResult(False, 0, 1, "missing")
    else:
        assert verify_chain() == VerifyResult(False, 0, 2, "link")


def test_a_deleted_tail_is_truncated(chain):
    assert execute(f"DELETE FROM {TABLE} WHERE seq >= 4") == 2

    assert verify_chain() == VerifyResult(False, 3, 4, "truncated")


def test_a_deleted_last_row_is_truncated(chain):
    execute(f"DELETE FROM {TABLE} WHERE seq = 5")

    assert verify_chain() == VerifyResult(False, 4, 5, "truncated")


def test_an_emptied_log_is_truncated(chain):
    execute(f"DELETE FROM {TABLE}")

    assert verify_chain() == VerifyResult(False, 0, 1, "truncated")


def test_the_first_break_is_reported(chain):
    execute(f"UPDATE {TABLE} SET target_label = 'x' WHERE seq = 4")
    execute(f"UPDATE {TABLE} SET target_label = 'y' WHERE seq = 2")

    assert verify_chain().first_broken_seq == 2


def test_an_untouched_chain_with_the_guards_dropped_still_verifies(chain):
    assert verify_chain() == VerifyResult(True, 5, None, "")


def test_verification_reads_in_batches(chain, monkeypatch):
    monkeypatch.setattr("gonghao.audit.services.VERIFY_BATCH", 2)
    assert verify_chain() == VerifyResult(True, 5)
    execute(f"UPDATE {TABLE} SET channel = 'web' WHERE seq = 5")
    assert verify_chain() == VerifyResult(False, 4, 5, "content")
