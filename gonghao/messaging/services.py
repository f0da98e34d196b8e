"""Queueing messages in the business transaction, delivering them after commit, retrying.

The business transaction only inserts a `Message` row: a rollback drops it, a commit keeps it.
After commit, one attempt is made at once (`transaction.on_commit`); rows still queued are
picked up by `deliver_pending` (the `gonghao messages send` command) with doubling waits.
During a web request that attempt waits until the response has gone out (`request_finished`):
the answer does not wait for a mail server or SMS provider, and an endpoint that answers the
same whether or not it sends a code (a password reset) also takes about the same time.

Claiming is what makes "exactly once" hold with several workers: a short transaction selects
due rows (`select_for_update(skip_locked=True)` on PostgreSQL; SQLite's IMMEDIATE transactions
serialise writers) and moves their `next_attempt_at` a lease into the future while counting
the attempt, with a conditional UPDATE that only a still-due row matches. Delivery then runs
outside any transaction, so no database lock is held while a mail server or SMS provider is
slow. A worker that dies mid-send leaves the row to be tried again when the lease ends.
Delivery failures are recorded on the row and logged without the body; they never raise.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from gonghao.audit.services import record
from gonghao.core import clock, context
from gonghao.core.errors import ValidationFailed

from . import templates
from .audit_actions import MESSAGE_FAIL, MESSAGE_QUEUE
from .backends import PermanentDeliveryError, backend_for
from .constants import (
    CLAIM_LEASE,
    LANGUAGES,
    MAX_ATTEMPTS,
    MAX_ERROR,
    MAX_RECIPIENT,
    REDACTED_FAILED,
    REDACTED_SENT,
    RETRY_BASE,
    RETRY_CAP,
)
from .models import Channel, Message, MessageStatus

logger = logging.getLogger(__name__)

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# --- input -------------------------------------------------------------------------------------


def normalise_language(language: str | None) -> str:
    """`zh-Hans`, `zh_hans`, `zh-CN` → `zh-hans`; `en-GB` → `en`; None → the default."""
    raw = (language or settings.LANGUAGE_CODE).strip().lower().replace("_", "-")
    if raw in LANGUAGES:
        return raw
    if raw.startswith("zh"):
        return "zh-hans"
    if raw.startswith("en"):
        return "en"
    message = _("Messages are sent in 简体中文 or English.")
    raise ValidationFailed(field_errors={"language": [message]})


def normalise_recipient(channel: str, recipient: str) -> str:
    """An e-mail address as given, or a phone number in E.164; anything else is refused."""
    value = (recipient or "").strip()
    if not value or len(value) > MAX_RECIPIENT or _CONTROL.search(value):
        raise _bad_recipient(channel)
    if channel == Channel.EMAIL:
        try:
            validate_email(value)
        except ValidationError:
            raise _bad_recipient(channel)
        return value
    if channel == Channel.SMS:
        try:
            number = phonenumbers.parse(value, settings.PHONENUMBER_DEFAULT_REGION)
        except phonenumbers.NumberParseException:
            raise _bad_recipient(channel)
        if not phonenumbers.is_valid_number(number):
            raise _bad_recipient(channel)
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    raise ValidationFailed(field_errors={"channel": [_("Unknown message channel.")]})


def _bad_recipient(channel: str) -> ValidationFailed:
    if channel == Channel.EMAIL:
        message = _("Enter a valid e-mail address.")
    else:
        message = _("Enter a valid mobile phone number.")
    return ValidationFailed(field_errors={"recipient": [message]})


# --- queueing ----------------------------------------------------------------------------------


def queue_message(
    *,
    channel: str,
    recipient: str,
    template: str,
    params: dict[str, Any],
    language: str | None = None,
    employee: Any = None,
    actor: Any = None,
) -> Message:
    """Insert a message in the caller's transaction; it is delivered once that commits.

    `language` defaults to the preferred language of `employee` (the recipient), then to the
    company default. Raises ValidationFailed for a bad recipient or language and
    LookupError/ValueError for an unknown template or missing params (programming errors).
    Never raises for delivery.
    The audit event names the template and the masked recipient, never the body.
    """
    if channel not in Channel.values:
        raise ValidationFailed(field_errors={"channel": [_("Unknown message channel.")]})
    address = normalise_recipient(channel, recipient)
    if language is None and employee is not None:
        language = employee.language or None  # the recipient's preference, else the default
    lang = normalise_language(language)
    template_def = templates.get(template)
    rendered = templates.render(template, lang, params)
    values = {name: str(params[name]) for name in template_def.params}
    with transaction.atomic():
        message = Message.objects.create(
            channel=channel,
            recipient=address,
            language=lang,
            template=template,
            params=values,
            secret=template_def.secret,
            subject=rendered.subject[:255],
            body=rendered.body,
            employee=employee,
            next_attempt_at=clock.now(),
            created_at=clock.now(),
        )
        record(
            MESSAGE_QUEUE,
            actor=actor if actor is not None else context.current().actor,
            target=message,
            params={
                "template": template,
                "channel": channel,
                "recipient": message.masked_recipient,
                "language": lang,
            },
        )
        message_id = message.pk
        transaction.on_commit(lambda: deliver_soon(message_id), robust=True)
    return message


# --- after the response ------------------------------------------------------------------------

_request = threading.local()


def begin_request(**_kwargs: Any) -> None:
    """`request_started`: deliveries committed from now wait for the response to go out."""
    _request.after_response = []


def deliver_soon(message_id: int) -> None:
    """Deliver now, or once the current request's response has gone out."""
    waiting = getattr(_request, "after_response", None)
    # Only while a request is being answered (its context is bound): work done outside one
    # (a command, a job) in a thread whose last request never finished delivers at once.
    if waiting is not None and context.current().request_id:
        waiting.append(message_id)
    else:
        deliver_message(message_id)


def end_request(**_kwargs: Any) -> None:
    """`request_finished` (the server has sent the response): the deferred attempts."""
    waiting = getattr(_request, "after_response", None)
    _request.after_response = None
    for message_id in waiting or ():
        deliver_message(message_id)


# --- delivery ----------------------------------------------------------------------------------


def retry_delay(attempts: int) -> timedelta:
    """Wait after the `attempts`-th failed try: 1, 2, 4 … minutes, capped."""
    return min(RETRY_BASE * (2 ** max(attempts - 1, 0)), RETRY_CAP)


def _claim(ids: list[int], now: datetime) -> int:
    """Take due, queued rows for one attempt; the number of rows this caller now owns."""
    return Message.objects.filter(
        pk__in=ids, status=MessageStatus.QUEUED, next_attempt_at__lte=now
    ).update(attempts=F("attempts") + 1, next_attempt_at=now + CLAIM_LEASE)


def deliver_message(message_id: int, now: datetime | None = None) -> str | None:
    """One attempt at one message if it is due: 'sent', 'retry', 'failed', or None when it was
    not due or another worker has it. Never raises."""
    try:
        moment = now or clock.now()
        with transaction.atomic():
            if _claim([message_id], moment) != 1:
                return None
        return _attempt(Message.objects.get(pk=message_id))
    except Exception:
        logger.exception("message %s: delivery attempt crashed", message_id)
        return None


def deliver_pending(now: datetime | None = None, limit: int = 100) -> dict[str, int]:
    """Deliver messages that are due; counts of 'sent', 'retry' and 'failed'.

    Safe to run in several processes at once: each row is claimed by one of them only.
    """
    moment = now or clock.now()
    with transaction.atomic():
        due = (
            Message.objects.select_for_update(skip_locked=True)
            .filter(status=MessageStatus.QUEUED, next_attempt_at__lte=moment)
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        # Each row is claimed on its own so the ones another worker took first drop out,
        # whatever the database's isolation does with a multi-row UPDATE.
        ids = [pk for pk in due if _claim([pk], moment) == 1]
    counts: Counter[str] = Counter({"sent": 0, "retry": 0, "failed": 0})
    for message in Message.objects.filter(pk__in=ids).order_by("pk"):
        try:
            outcome = _attempt(message)
        except Exception:
            logger.exception("message %s: delivery attempt crashed", message.pk)
            continue
        if outcome:
            counts[outcome] += 1
    return dict(counts)


def _attempt(message: Message) -> str | None:
    """Hand a claimed message to its backend and write down what happened."""
    try:
        backend_for(message.channel).deliver(message)
    except Exception as error:
        return _failed(message, error)
    return _sent(message)


def _owned(message: Message):
    # The attempt count we claimed with: a later claimer (after our lease ran out) wins.
    return Message.objects.filter(
        pk=message.pk, status=MessageStatus.QUEUED, attempts=message.attempts
    )


def _sent(message: Message) -> str | None:
    now = clock.now()
    changes: dict[str, Any] = {"status": MessageStatus.SENT, "sent_at": now, "last_error": ""}
    if message.secret:
        changes.update(body=REDACTED_SENT, params={}, redacted=True)
    with transaction.atomic():
        if not _owned(message).update(**changes):
            return None
    logger.info(
        "message %s (%s) sent to %s", message.pk, message.template, message.masked_recipient
    )
    return "sent"


def _failed(message: Message, error: Exception) -> str | None:
    now = clock.now()
    text = f"{type(error).__name__}: {error}"[:MAX_ERROR]
    final = isinstance(error, PermanentDeliveryError) or message.attempts >= MAX_ATTEMPTS
    changes: dict[str, Any] = {"last_error": text}
    if final:
        changes.update(status=MessageStatus.FAILED, next_attempt_at=now)
        if message.secret:
            changes.update(body=REDACTED_FAILED, params={}, redacted=True)
    else:
        changes["next_attempt_at"] = now + retry_delay(message.attempts)
    with transaction.atomic():
        if not _owned(message).update(**changes):
            return None
        if final:
            record(
                MESSAGE_FAIL,
                target=message,
                params={
                    "template": message.template,
                    "channel": message.channel,
                    "recipient": message.masked_recipient,
                    "attempts": message.attempts,
                },
            )
    logger.warning(
        "message %s (%s) to %s: attempt %s failed (%s)%s",
        message.pk,
        message.template,
        message.masked_recipient,
        message.attempts,
        type(error).__name__,
        ", giving up" if final else "",
    )
    return "failed" if final else "retry"


# --- redaction ---------------------------------------------------------------------------------


def redact(*, older_than: timedelta | None = None, now: datetime | None = None) -> int:
    """Replace the body and params of secret messages that are sent or failed.

    Sending already does this for each message; this sweeps rows written before a template
    was marked secret or left by an interrupted worker. `older_than` redacts every finished
    message (secret or not) created before then, for a retention policy.
    """
    moment = now or clock.now()
    finished = Message.objects.filter(
        status__in=[MessageStatus.SENT, MessageStatus.FAILED], redacted=False
    )
    secret_codes = [t.code for t in templates.all_templates() if t.secret]
    count = 0
    for status, placeholder in (
        (MessageStatus.SENT, REDACTED_SENT),
        (MessageStatus.FAILED, REDACTED_FAILED),
    ):
        rows = finished.filter(status=status)
        if older_than is not None:
            rows = rows.filter(created_at__lt=moment - older_than)
        else:
            rows = rows.filter(secret=True) | rows.filter(template__in=secret_codes)
        count += rows.update(body=placeholder, params={}, redacted=True)
    return count
