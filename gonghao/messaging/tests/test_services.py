"""Queueing in the business transaction, delivery after commit, retries, redaction, audit."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction

from gonghao.audit.models import AuditEvent
from gonghao.core.errors import ValidationFailed
from gonghao.messaging import services
from gonghao.messaging.constants import MAX_ATTEMPTS, RETRY_BASE, RETRY_CAP
from gonghao.messaging.models import Message, MessageStatus
from gonghao.org.models import Department

from . import support
from .conftest import outbox_files

PASSWORD = "Tq7#one-time-Pw"


def queue_password(recipient="13812345678", language="zh-hans", channel="sms", **extra):
    return services.queue_message(
        channel=channel,
        recipient=recipient,
        template="account.initial_password",
        params={"name": "张三", "employee_id": "E0000017", "password": PASSWORD},
        language=language,
        **extra,
    )


class Rollback(Exception):
    pass


@pytest.mark.django_db
def test_rollback_drops_the_message_and_writes_no_file(outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(Rollback), transaction.atomic():
            Department.objects.create(code="NEW", name="新部门")
            queue_password()
            raise Rollback

    assert callbacks == []
    assert not Message.objects.exists()
    assert not Department.objects.filter(code="NEW").exists()
    assert not AuditEvent.objects.filter(action="message.queue").exists()
    assert outbox_files(outbox) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("zh-Hans", "您的工号是 E0000017，一次性密码是 " + PASSWORD),
        ("en", "your 工号 (employee ID) is"),
    ],
)
def test_commit_delivers_to_an_outbox_file_in_the_language(
    outbox, django_capture_on_commit_callbacks, cast, language, expected
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        message = queue_password(
            recipient="zhang.san@example.cn",
            channel="email",
            language=language,
            employee=cast.employee,
        )

    [path] = outbox_files(outbox)
    assert re.fullmatch(rf"\d{{8}}T\d{{12}}Z-{message.pk}-email\.txt", path.name)
    assert path.stat().st_mode & 0o777 == 0o600
    text = path.read_text(encoding="utf-8")
    assert "To: zhang.san@example.cn\n" in text
    assert f"Language: {language.lower()}\n" in text
    assert "Template: account.initial_password\n" in text
    assert expected in text
    subject = "您的工号和一次性密码" if language == "zh-Hans" else "Your 工号 (employee ID)"
    assert f"Subject: {subject}" in text

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.attempts == 1
    assert message.sent_at is not None
    assert message.employee == cast.employee
    # The one-time password does not linger in the database once it is sent.
    assert message.body == "[sent]"
    assert message.params == {}
    assert message.redacted


@pytest.mark.django_db
def test_queue_writes_one_audit_event_with_the_masked_recipient(
    django_capture_on_commit_callbacks, cast
):
    before = AuditEvent.objects.count()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        message = queue_password(recipient="+8613812345678", actor=cast.admin)

    events = list(AuditEvent.objects.order_by("seq")[before:])
    assert [e.action for e in events] == ["message.queue"]
    event = events[0]
    assert event.actor_employee_id == cast.admin.employee_id
    assert event.target_type == "messaging.message"
    assert event.target_id == str(message.pk)
    assert event.params == {
        "template": "account.initial_password",
        "channel": "sms",
        "recipient": "138****5678",
        "language": "zh-hans",
    }
    everything = f"{event.params} {event.changes} {event.target_label}"
    assert PASSWORD not in everything
    assert "13812345678" not in everything


@pytest.mark.django_db
def test_a_failing_backend_keeps_the_business_change_and_retries_later(
    settings, outbox, frozen_clock, django_capture_on_commit_callbacks
):
    settings.GONGHAO_SMS_BACKEND = support.FAILING
    start = frozen_clock()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        Department.objects.create(code="KEPT", name="保留")
        message = queue_password()

    assert Department.objects.filter(code="KEPT").exists()
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert message.attempts == 1
    assert message.next_attempt_at == start + RETRY_BASE
    assert message.next_attempt_at > frozen_clock()
    assert message.last_error == "DeliveryError: mail server said no"
    assert PASSWORD in message.body  # still needed for the next try

    # Not due yet: nothing is tried.
    assert services.deliver_pending() == {"sent": 0, "retry": 0, "failed": 0}

    settings.GONGHAO_SMS_BACKEND = "outbox"
    frozen_clock.advance(seconds=61)
    assert services.deliver_pending() == {"sent": 1, "retry": 0, "failed": 0}
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == ("sent", 2, "")
    [path] = outbox_files(outbox)
    assert path.name.endswith(f"-{message.pk}-sms.txt")
    assert PASSWORD in path.read_text(encoding="utf-8")


@pytest.mark.django_db
def test_a_crashing_backend_does_not_raise_into_the_caller(
    settings, django_capture_on_commit_callbacks
):
    settings.GONGHAO_EMAIL_BACKEND = support.CRASHING
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        message = queue_password(recipient="a@example.cn", channel="email")
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert message.last_error == "RuntimeError: bug in a backend"


@pytest.mark.django_db
def test_waits_double_and_the_last_attempt_marks_failed(
    settings, frozen_clock, django_capture_on_commit_callbacks
):
    settings.GONGHAO_SMS_BACKEND = support.FAILING
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        message = queue_password()

    waits = []
    for _ in range(MAX_ATTEMPTS - 1):
        message.refresh_from_db()
        waits.append(message.next_attempt_at - frozen_clock())
        frozen_clock.current = message.next_attempt_at
        counts = services.deliver_pending()
        assert sum(counts.values()) == 1

    assert waits == [min(RETRY_BASE * 2**n, RETRY_CAP) for n in range(MAX_ATTEMPTS - 1)]
    assert counts == {"sent": 0, "retry": 0, "failed": 1}
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.attempts == MAX_ATTEMPTS
    assert message.body == "[failed]"  # a password that was never sent does not linger either
    fail = AuditEvent.objects.get(action="message.fail")
    assert fail.params["attempts"] == MAX_ATTEMPTS
    assert fail.params["recipient"] == "138****5678"

    frozen_clock.advance(days=30)
    assert services.deliver_pending() == {"sent": 0, "retry": 0, "failed": 0}


@pytest.mark.django_db
def test_a_permanent_error_fails_at_once(settings, django_capture_on_commit_callbacks):
    settings.GONGHAO_EMAIL_BACKEND = "smtp"  # the SMTP backend refuses an SMS outright
    settings.GONGHAO_SMS_BACKEND = "gonghao.messaging.backends.SmtpBackend"
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        message = queue_password()
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("failed", 1)
    assert "sends e-mail only" in message.last_error


@pytest.mark.django_db
def test_non_secret_bodies_are_kept_and_redact_sweeps(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notice = services.queue_message(
            channel="email",
            recipient="li@example.cn",
            template="account.password_changed",
            params={"name": "李四", "employee_id": "E0000025", "changed_at": "2026-11-29 11:00"},
            language="en",
        )
    notice.refresh_from_db()
    assert notice.status == "sent"
    assert "E0000025" in notice.body

    # A secret row that was sent but not redacted (say, by an older version) is swept.
    leftover = Message.objects.create(
        channel="sms",
        recipient="+8613812345678",
        language="en",
        template="auth.code",
        params={"code": "123456", "minutes": "10"},
        body="Your verification code is 123456.",
        status=MessageStatus.SENT,
    )
    assert services.redact() == 1
    leftover.refresh_from_db()
    assert (leftover.body, leftover.params, leftover.redacted) == ("[sent]", {}, True)
    notice.refresh_from_db()
    assert "E0000025" in notice.body
    assert services.redact() == 0
    # A retention policy can clear every finished body.
    assert services.redact(older_than=timedelta(0), now=notice.created_at + timedelta(1)) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("channel", "recipient"),
    [
        ("email", "../../etc/passwd"),
        ("email", "a@example.cn\nBcc: b@example.cn"),
        ("email", ""),
        ("sms", "../../etc/passwd"),
        ("sms", "12345"),
        ("sms", "+86138123456789999"),
        ("fax", "a@example.cn"),
    ],
)
def test_bad_recipients_are_refused(channel, recipient):
    with pytest.raises(ValidationFailed):
        queue_password(recipient=recipient, channel=channel)
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_phone_numbers_are_stored_in_e164(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        message = queue_password(recipient="138 1234 5678")
    assert message.recipient == "+8613812345678"


@pytest.mark.parametrize(
    ("given", "expected"),
    [("zh-Hans", "zh-hans"), ("zh_CN", "zh-hans"), ("en-GB", "en"), (None, "zh-hans")],
)
def test_languages_are_normalised(given, expected):
    assert services.normalise_language(given) == expected


def test_unknown_language_is_refused():
    with pytest.raises(ValidationFailed):
        services.normalise_language("fr")


@pytest.mark.django_db
def test_the_send_command_prints_counts(settings, django_capture_on_commit_callbacks):
    from django.utils import translation

    settings.GONGHAO_SMS_BACKEND = support.FAILING
    with django_capture_on_commit_callbacks(execute=False):
        queue_password()
        queue_password(recipient="13912345678")
    settings.GONGHAO_SMS_BACKEND = support.RECORDING
    out = io.StringIO()
    with translation.override("en"):
        call_command("messages", "send", stdout=out)
    assert out.getvalue().strip() == "sent 2, to retry 0, failed 0"
    assert sorted(support.delivered) == sorted(Message.objects.values_list("pk", flat=True))

    out = io.StringIO()
    with translation.override("en"):
        call_command("messages", "redact", stdout=out)
    assert out.getvalue().strip() == "redacted 0 messages"


@pytest.mark.django_db
def test_logs_never_hold_the_body_or_the_full_recipient(
    settings, caplog, frozen_clock, django_capture_on_commit_callbacks
):
    caplog.set_level("DEBUG")
    settings.GONGHAO_SMS_BACKEND = support.FAILING
    with django_capture_on_commit_callbacks(execute=True):
        queue_password()
    settings.GONGHAO_SMS_BACKEND = "outbox"
    frozen_clock.advance(minutes=2)
    assert services.deliver_pending()["sent"] == 1

    assert "attempt 1 failed (DeliveryError)" in caplog.text
    assert "sent to 138****5678" in caplog.text
    assert PASSWORD not in caplog.text
    assert "13812345678" not in caplog.text
