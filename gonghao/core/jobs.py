"""Scheduled work: apps register periodic jobs; `gonghao jobs run` (from cron) runs those due.

A job is claimed with one conditional UPDATE, so two schedulers started at once (two cron
hosts, or a slow run overlapping the next) never run the same job twice in one period. Jobs
themselves are written to be idempotent as well: running one twice in a row changes nothing
the second time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q
from django.utils.functional import Promise

from gonghao.core import clock, context


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    description: Promise
    run: Callable[[datetime], dict[str, Any]]  # takes "now", returns counts for the report


@dataclass(frozen=True)
class JobOutcome:
    name: str
    status: str  # "done", "failed", "not_due", "busy"
    result: dict[str, Any]


_JOBS: dict[str, Job] = {}


def register_job(name: str, *, every: timedelta, description: Promise):
    """Decorator: `@register_job("lifecycle.dormant", every=timedelta(days=1), description=…)`."""

    def decorate(func: Callable[[datetime], dict[str, Any]]):
        existing = _JOBS.get(name)
        if existing is not None and existing.run is not func:
            raise ValueError(f"job {name} registered twice")
        _JOBS[name] = Job(name, every, description, func)
        return func

    return decorate


def all_jobs() -> list[Job]:
    return sorted(_JOBS.values(), key=lambda job: job.name)


def get_job(name: str) -> Job:
    try:
        return _JOBS[name]
    except KeyError:
        raise KeyError(name) from None


def _claim(job: Job, now: datetime, *, force: bool) -> bool:
    from gonghao.core.models import JobRun

    JobRun.objects.get_or_create(name=job.name)
    claim = JobRun.objects.filter(name=job.name)
    if not force:
        never_run = Q(last_started_at__isnull=True)
        claim = claim.filter(never_run | Q(last_started_at__lte=now - job.every))
    # A run that died without finishing holds its claim for one period at most.
    return claim.update(last_started_at=now, last_status="running") == 1


def run_job(job: Job, *, now: datetime | None = None, force: bool = False) -> JobOutcome:
    from gonghao.core.models import JobRun

    now = now or clock.now()
    if not _claim(job, now, force=force):
        return JobOutcome(job.name, "not_due", {})
    try:
        with context.bind(channel="system", actor=None):
            result = job.run(now) or {}
    except Exception as exc:
        JobRun.objects.filter(name=job.name).update(
            last_finished_at=clock.now(), last_status="failed", last_result={"error": repr(exc)}
        )
        return JobOutcome(job.name, "failed", {"error": repr(exc)})
    JobRun.objects.filter(name=job.name).update(
        last_finished_at=clock.now(), last_status="done", last_result=result
    )
    return JobOutcome(job.name, "done", result)


def run_due(
    *, now: datetime | None = None, only: list[str] | None = None, force: bool = False
) -> list[JobOutcome]:
    """Run every registered job that is due (or the named ones); one failure stops no other."""
    now = now or clock.now()
    jobs = [get_job(name) for name in only] if only else all_jobs()
    outcomes = []
    for job in jobs:
        outcomes.append(run_job(job, now=now, force=force))
    return outcomes
