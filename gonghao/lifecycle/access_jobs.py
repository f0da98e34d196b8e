"""Scheduled work of access reviews (run by `gonghao jobs run`) and the reminder's texts."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils.translation import gettext_lazy as _

from gonghao.core.jobs import register_job
from gonghao.messaging import templates

from . import reviews

templates.register(
    reviews.REMINDER_TEMPLATE,
    subject={
        "zh-hans": "权限定期审核：您有 %(pending)s 项待审核",
        "en": "Access review: %(pending)s grants await your decision",
    },
    body={
        "zh-hans": (
            "%(name)s，您好：权限审核「%(campaign)s」中有 %(pending)s 项授权等待您决定保留或收回，"
            "截止日期为 %(due_date)s。逾期未决定的项目将按审核设置自动处理。"
        ),
        "en": (
            'Hello %(name)s, the access review "%(campaign)s" has %(pending)s grants waiting '
            "for you to keep or revoke them by %(due_date)s. Grants left undecided then get the "
            "review's default."
        ),
    },
)


@register_job(
    "access_reviews.repeat",
    every=timedelta(hours=1),
    description=_("Start the next round of repeating access reviews."),
)
def repeat_campaigns(now: datetime) -> dict[str, int]:
    return reviews.start_repeats(now)


@register_job(
    "access_reviews.close",
    every=timedelta(minutes=15),
    description=_("Close access reviews past their due date; undecided grants get the default."),
)
def close_campaigns(now: datetime) -> dict[str, int]:
    return reviews.close_due_campaigns(now)


@register_job(
    "access_reviews.remind",
    every=timedelta(hours=1),
    description=_("Remind reviewers of undecided access-review items before the due date."),
)
def remind_reviewers(now: datetime) -> dict[str, int]:
    return reviews.send_reminders(now)
