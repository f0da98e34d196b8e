"""The append-only audit log and the head of its hash chain."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ActorKind(models.TextChoices):
    EMPLOYEE = "employee", _("Employee")
    SYSTEM = "system", _("System")
    ANONYMOUS = "anonymous", _("Anonymous")


class SequenceNumberField(models.BigIntegerField):
    """A 64-bit integer, spelt `integer` on SQLite: as the primary key it is then the table's
    rowid itself rather than one more index beside it (SQLite's integers are 64-bit anyway)."""

    def db_type(self, connection):
        if connection.vendor == "sqlite":
            return "integer"
        return super().db_type(connection)


class AuditEvent(models.Model):
    """One thing that happened: who, when, what, on which record. Never updated or deleted.

    The database refuses UPDATE and DELETE (see `guards.py`); `hash` chains each event to the
    previous event of its chain so that any change made behind the database's back is found by
    `verify`. `seq` orders all events; it has no gaps on SQLite, and on PostgreSQL it comes from
    a sequence, so a rolled-back transaction leaves a gap (the links, not `seq`, prove nothing
    is missing). `seq` is the primary key: a surrogate id would be one more index to update.
    """

    seq = SequenceNumberField(_("sequence number"), primary_key=True)
    chain = models.PositiveSmallIntegerField(_("chain"), default=1)
    occurred_at = models.DateTimeField(_("time"), db_index=True)
    actor_kind = models.CharField(_("actor kind"), max_length=16, choices=ActorKind.choices)
    # Searched through the (actor_employee_id, occurred_at) index below, whose prefix it is:
    # every index is one more B-tree each audited write updates.
    actor_employee_id = models.CharField(_("actor 工号"), max_length=32, blank=True)
    # Employees are never deleted, but the event must not depend on that: no DB constraint.
    # No index either: lookups by employee go through the 工号 (the index above), and every
    # index is one more B-tree page each audited write dirties.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=64)  # indexed with occurred_at below
    target_type = models.CharField(_("target type"), max_length=64, blank=True)
    target_id = models.CharField(_("target id"), max_length=64, blank=True)
    target_label = models.CharField(_("target"), max_length=255, blank=True)
    params = models.JSONField(_("summary parameters"), default=dict, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    client_ip = models.GenericIPAddressField(_("client IP"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=512, blank=True)
    channel = models.CharField(_("channel"), max_length=16, blank=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-seq"]
        indexes = [
            models.Index(fields=["actor_employee_id", "occurred_at"], name="audit_actor_time"),
            models.Index(fields=["target_type", "target_id"], name="audit_target"),
            models.Index(fields=["action", "occurred_at"], name="audit_action_time"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action}"

    @property
    def summary(self) -> str:
        from .registry import render_summary

        return render_summary(self.action, self.params, self.target_label)

    @property
    def actor_display(self) -> str:
        if self.actor_kind == ActorKind.EMPLOYEE:
            return self.actor_employee_id
        return str(ActorKind(self.actor_kind).label)


class AuditChainHead(models.Model):
    """One row per chain (its pk is the chain number): the chain's last event, seq and hash.

    A writer locks a head row to append to its chain, so concurrent transactions can never fork
    a chain; on PostgreSQL they spread over several chains instead of queueing on one.
    """

    last_seq = models.BigIntegerField(_("last sequence number"), default=0)
    last_hash = models.CharField(_("last hash"), max_length=64)

    class Meta:
        verbose_name = _("audit chain head")

    def __str__(self) -> str:
        return f"#{self.last_seq} {self.last_hash[:12]}"
