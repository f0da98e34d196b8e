"""gonghao jobs run | list: the scheduler entry point for cron (run it every minute)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from gonghao.core import jobs


class Command(BaseCommand):
    help = (
        "Scheduled jobs. 'run' runs every job that is due (safe to start from cron every minute, "
        "even on several hosts); 'list' shows the jobs and when they last ran."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["run", "list"])
        parser.add_argument(
            "--only", action="append", default=[], metavar="NAME", help="run only this job"
        )
        parser.add_argument(
            "--force", action="store_true", help="run even if the job is not due yet"
        )

    def handle(self, *args, action: str, only: list[str], force: bool, **options):
        from gonghao.core.models import JobRun

        known = {job.name for job in jobs.all_jobs()}
        unknown = [name for name in only if name not in known]
        if unknown:
            raise CommandError(
                _("Unknown job: %(names)s. Known jobs: %(known)s")
                % {"names": ", ".join(unknown), "known": ", ".join(sorted(known))}
            )
        if action == "list":
            runs = {run.name: run for run in JobRun.objects.all()}
            for job in jobs.all_jobs():
                run = runs.get(job.name)
                last = run.last_started_at.isoformat() if run and run.last_started_at else "-"
                status = run.last_status if run else "-"
                self.stdout.write(f"{job.name}\t{job.every}\t{last}\t{status}\t{job.description}")
            return
        failed = 0
        for outcome in jobs.run_due(only=only or None, force=force):
            if outcome.status == "not_due":
                continue
            if outcome.status == "failed":
                failed += 1
            details = ", ".join(f"{key}={value}" for key, value in outcome.result.items())
            self.stdout.write(f"{outcome.name}: {outcome.status} {details}".rstrip())
        if failed:
            raise CommandError(_("%(count)s job(s) failed") % {"count": failed})
