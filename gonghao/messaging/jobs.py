"""The outbox runs as a scheduled job too, so one cron line (`gonghao jobs run`) is enough."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils.translation import gettext_lazy as _

from gonghao.core.jobs import register_job
from gonghao.messaging.services import deliver_pending


@register_job(
    "messages.send",
    every=timedelta(minutes=1),
    description=_("Deliver queued e-mails and SMS that are due."),
)
def send_due_messages(now: datetime) -> dict[str, int]:
    return deliver_pending(limit=500)
