"""The scheduler: due jobs run once per period, failures are contained, two runners never race."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from gonghao.core import jobs
from gonghao.core.models import JobRun
from gonghao.testing.threads import run_together

pytestmark = pytest.mark.django_db


@pytest.fixture
def counted_jobs(monkeypatch):
    """Two test jobs in a registry of their own, with call counters."""
    monkeypatch.setattr(jobs, "_JOBS", {})
    calls = {"tick": 0, "broken": 0}

    @jobs.register_job("test.tick", every=timedelta(hours=1), description=_("tick"))
    def tick(now):
        calls["tick"] += 1
        return {"ticked": calls["tick"]}

    @jobs.register_job("test.broken", every=timedelta(hours=1), description=_("broken"))
    def broken(now):
        calls["broken"] += 1
        raise RuntimeError("boom")

    return calls


def test_a_due_job_runs_once_per_period(counted_jobs, frozen_clock):
    first = {o.name: o for o in jobs.run_due(only=["test.tick"])}
    assert first["test.tick"].status == "done"
    assert first["test.tick"].result == {"ticked": 1}

    frozen_clock.advance(minutes=59)
    again = jobs.run_due(only=["test.tick"])
    assert [o.status for o in again] == ["not_due"]
    assert counted_jobs["tick"] == 1

    frozen_clock.advance(minutes=1)
    assert [o.status for o in jobs.run_due(only=["test.tick"])] == ["done"]
    assert counted_jobs["tick"] == 2
    run = JobRun.objects.get(name="test.tick")
    assert run.last_status == "done"
    assert run.last_result == {"ticked": 2}


def test_force_runs_a_job_that_is_not_due(counted_jobs, frozen_clock):
    jobs.run_due(only=["test.tick"])
    jobs.run_due(only=["test.tick"], force=True)
    assert counted_jobs["tick"] == 2


def test_a_failing_job_is_recorded_and_stops_no_other(counted_jobs, frozen_clock):
    outcomes = {o.name: o for o in jobs.run_due()}
    assert outcomes["test.broken"].status == "failed"
    assert "boom" in outcomes["test.broken"].result["error"]
    assert outcomes["test.tick"].status == "done"
    assert JobRun.objects.get(name="test.broken").last_status == "failed"


def test_registering_another_function_under_a_used_name_is_refused(counted_jobs):
    with pytest.raises(ValueError, match="registered twice"):
        jobs.register_job("test.tick", every=timedelta(hours=1), description=_("x"))(
            lambda now: {}
        )


def test_the_command_reports_runs_and_fails_on_a_failed_job(counted_jobs, frozen_clock):
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("jobs", "run", stdout=out)
    assert "test.tick: done ticked=1" in out.getvalue()
    assert "test.broken: failed" in out.getvalue()

    listing = StringIO()
    call_command("jobs", "list", stdout=listing)
    assert "test.tick" in listing.getvalue() and "done" in listing.getvalue()

    with translation.override("en"), pytest.raises(CommandError, match="Unknown job"):
        call_command("jobs", "run", "--only", "nope")


def test_the_outbox_is_a_registered_job():
    assert "messages.send" in {job.name for job in jobs.all_jobs()}


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_at_once_run_a_job_once(counted_jobs):
    JobRun.objects.create(name="test.tick")
    results, errors = run_together(
        lambda i: jobs.run_due(only=["test.tick"])[0].status, threads=6
    )
    assert not errors
    assert sorted(results).count("done") == 1
    assert counted_jobs["tick"] == 1
