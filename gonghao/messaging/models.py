"""The durable outbox: one row per message, written in the business transaction."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gonghao.core import clock

from .masking import mask_recipient


def _now() -> datetime:
    # Looked up at call time so tests that move the clock move creation times too.
    return clock.now()


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Message(models.Model):
    """One message to one recipient, rendered when queued and delivered after commit.

    The business transaction only inserts the row, so a rollback drops the message with the
    change that caused it. Delivery happens after commit and is retried with growing waits.
    `body` and `params` are kept because delivery needs them; for templates marked secret
    (passwords, codes) they are replaced once the message is sent or has failed.
    """

    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    recipient = models.CharField(_("recipient"), max_length=254)
    language = models.CharField(_("language"), max_length=16)
    template = models.CharField(_("template"), max_length=100)
    params = models.JSONField(_("template parameters"), default=dict, blank=True)
    secret = models.BooleanField(_("holds a secret"), default=False)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    body = models.TextField(_("body"))
    status = models.CharField(
        _("status"), max_length=8, choices=MessageStatus.choices, default=MessageStatus.QUEUED
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=_now)
    created_at = models.DateTimeField(_("created at"), default=_now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    redacted = models.BooleanField(_("redacted"), default=False)
    employee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("employee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="messaging_due_idx"),
            models.Index(fields=["created_at"], name="messaging_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.template} → {self.masked_recipient}"

    @property
    def masked_recipient(self) -> str:
        return mask_recipient(self.channel, self.recipient)
