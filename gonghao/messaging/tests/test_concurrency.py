"""Several workers at once deliver each message exactly once (file SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from gonghao.messaging import services
from gonghao.messaging.models import Message, MessageStatus
from gonghao.testing.threads import run_together

from . import support

THREADS = 4
MESSAGES = 40


def run_all(worker) -> list[BaseException]:
    return run_together(worker, THREADS)[1]


def make_messages(count: int) -> list[int]:
    Message.objects.bulk_create(
        Message(
            channel="email",
            recipient=f"user{n}@example.cn",
            language="en",
            template="account.password_changed",
            body=f"message {n}",
        )
        for n in range(count)
    )
    return sorted(Message.objects.values_list("pk", flat=True))


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliver_pending_sends_each_message_once(settings):
    settings.GONGHAO_EMAIL_BACKEND = support.RECORDING
    ids = make_messages(MESSAGES)
    sent_by: dict[int, int] = {}

    def worker(index: int) -> None:
        total = 0
        for _ in range(MESSAGES):
            counts = services.deliver_pending(limit=3)
            total += counts["sent"]
            if not counts["sent"] and not Message.objects.filter(status="queued").exists():
                break
        sent_by[index] = total

    assert run_all(worker) == []

    assert sorted(support.delivered) == ids
    assert sum(sent_by.values()) == MESSAGES
    assert set(Message.objects.values_list("status", "attempts")) == {(MessageStatus.SENT, 1)}


@pytest.mark.django_db(transaction=True)
def test_after_commit_and_retry_workers_race_for_one_message(settings):
    settings.GONGHAO_EMAIL_BACKEND = support.RECORDING
    [message_id] = make_messages(1)
    outcomes: list = []

    def worker(index: int) -> None:
        if index % 2:
            outcomes.append(services.deliver_message(message_id))
        else:
            outcomes.append(services.deliver_pending()["sent"] or None)

    assert run_all(worker) == []

    assert support.delivered == [message_id]
    assert outcomes.count(None) == THREADS - 1
    message = Message.objects.get()
    assert (message.status, message.attempts) == (MessageStatus.SENT, 1)
