"""gonghao messages send: deliver the messages that are due; `redact` sweeps secret bodies."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from gonghao.core import context
from gonghao.messaging.services import deliver_pending, redact


class Command(BaseCommand):
    help = (
        "Message outbox. 'send' delivers queued messages that are due (run it from the "
        "scheduler); 'redact' clears the bodies of sent secret messages."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["send", "redact"])
        parser.add_argument(
            "--limit", type=int, default=100, help="most messages to deliver in one run"
        )

    def handle(self, *args, action: str, limit: int, **options):
        with context.bind(channel="cli"):
            if action == "redact":
                count = redact()
                self.stdout.write(_("redacted %(count)s messages") % {"count": count})
                return
            counts = deliver_pending(limit=max(1, limit))
        self.stdout.write(_("sent %(sent)s, to retry %(retry)s, failed %(failed)s") % counts)
