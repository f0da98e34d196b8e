"""`gonghao audit verify`: says the chain is intact or names the first broken event."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections

from gonghao import cli
from gonghao.audit.models import ActorKind, AuditEvent
from gonghao.audit.services import seq_is_gapless, verify_chain

from .util import TABLE, actions_after, events_after, execute, last_seq, record_some

pytestmark = pytest.mark.django_db


def run_verify() -> str:
    out = StringIO()
    call_command("audit", "verify", stdout=out)
    return out.getvalue()


def test_verify_reports_an_intact_chain_and_records_itself(cast):
    before = last_seq()
    assert before > 0

    assert run_verify() == f"audit chain OK: {before} events verified\n"

    assert actions_after(before) == ["audit.verify"]
    event = events_after(before)[0]
    assert event.actor_kind == ActorKind.SYSTEM
    assert event.channel == "cli"
    assert event.params == {"result": "ok", "checked": before}
    assert verify_chain().checked == before + 1


def test_verify_counts_its_own_earlier_events():
    assert run_verify() == "audit chain OK: 0 events verified\n"
    assert run_verify() == "audit chain OK: 1 events verified\n"
    assert actions_after(0) == ["audit.verify", "audit.verify"]


def test_verify_names_the_first_broken_event(unguarded):
    record_some(4)
    execute(f"UPDATE {TABLE} SET target_label = 'forged' WHERE seq = 3")

    with pytest.raises(CommandError, match=r"BROKEN at event #3 \(content\)") as error:
        run_verify()

    assert "2 events before it are intact" in str(error.value)
    # The failed verification is itself on the record, appended after the damage.
    assert actions_after(4) == ["audit.verify"]
    assert events_after(4)[0].params == {"result": "broken at #3", "checked": 2}


def test_verify_names_a_missing_event(unguarded):
    record_some(4)
    execute(f"DELETE FROM {TABLE} WHERE seq = 2")

    expected = r"#2 \(missing\)" if seq_is_gapless() else r"#3 \(link\)"
    with pytest.raises(CommandError, match=expected):
        run_verify()


def test_verify_names_a_truncated_tail(unguarded):
    record_some(4)
    execute(f"DELETE FROM {TABLE} WHERE seq = 4")

    with pytest.raises(CommandError, match=r"#4 \(truncated\)"):
        run_verify()


def test_only_known_subcommands_are_accepted():
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("audit", "repair")
    assert not AuditEvent.objects.exists()


def test_the_console_script_runs_verify(capsys, monkeypatch):
    record_some(2)
    # A command run from the command line closes the connections at the end; this one is the
    # test's, which must stay open.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    cli.main(["audit", "verify"])
    assert capsys.readouterr().out == "audit chain OK: 2 events verified\n"
    assert actions_after(2) == ["audit.verify"]
