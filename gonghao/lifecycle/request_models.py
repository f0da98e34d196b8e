"""The shape shared by requests decided by a second person (four eyes): onboarding requests and
role-change requests. Abstract: each request type keeps its own table."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class RequestStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    RETURNED = "returned", _("Returned for changes")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


def request_status_field(statuses: type[models.TextChoices]) -> models.CharField:
    """The status column; a request type whose decider cannot send it back narrows the choices
    (they are part of the migration state, so each type keeps exactly its own)."""
    return models.CharField(
        _("status"),
        max_length=16,
        choices=statuses.choices,
        default=RequestStatus.SUBMITTED,
    )


def request_indexes(prefix: str) -> list[models.Index]:
    """The two list filters every request type has: by status, and the requester's own.
    Index names are per table, so each type gives its prefix."""
    return [
        models.Index(fields=["status", "created_at"], name=f"{prefix}_status"),
        models.Index(fields=["requested_by", "status"], name=f"{prefix}_requester"),
    ]


class FourEyesRequest(models.Model):
    """A request filed by one employee and decided (approved, rejected) by another, who is
    recorded with the moment and the reason. Concrete types add what is asked for and their
    indexes (`request_indexes`)."""

    status = request_status_field(RequestStatus)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    # Set by the services from gonghao.core.clock, so tests that move the clock move them too.
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]
