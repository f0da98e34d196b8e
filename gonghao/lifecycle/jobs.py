"""The lifecycle's scheduled jobs: due offboardings, erasure after retention, dormant accounts."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils.translation import gettext_lazy as _

from gonghao.core.jobs import register_job

from . import offboarding, retention


@register_job(
    "lifecycle.offboard_due",
    every=timedelta(hours=1),
    description=_("Perform the scheduled offboardings whose effective date has come."),
)
def offboard_due(now: datetime) -> dict[str, int]:
    return offboarding.perform_due(now)


@register_job(
    "lifecycle.erase_departed_pii",
    every=timedelta(days=1),
    description=_("Erase the phone and e-mail of employees departed longer than the retention."),
)
def erase_departed_pii(now: datetime) -> dict[str, int]:
    return retention.erase_departed_pii(now)


@register_job(
    "lifecycle.disable_dormant",
    every=timedelta(days=1),
    description=_("Disable accounts without a login for GONGHAO_DORMANT_DAYS; tell managers."),
)
def disable_dormant(now: datetime) -> dict[str, int]:
    return retention.disable_dormant(now)
