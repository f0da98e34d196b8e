"""gonghao audit verify: recompute the audit hash chain."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from gonghao.audit.services import verify_and_record
from gonghao.core import context


class Command(BaseCommand):
    help = "Audit log tools. 'verify' recomputes the hash chain and names the first broken event."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args, action: str, **options):
        with context.bind(channel="cli"):
            result = verify_and_record()
        if not result.ok:
            raise CommandError(
                f"audit chain BROKEN at event #{result.first_broken_seq} ({result.reason}); "
                f"{result.checked} events before it are intact"
            )
        self.stdout.write(f"audit chain OK: {result.checked} events verified")
