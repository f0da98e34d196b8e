"""Onboarding requests: a department head asks for a new employee, an approver decides."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from gonghao.core import clock

from .request_models import FourEyesRequest, RequestStatus, request_indexes


def _now() -> datetime:
    # Looked up at call time so tests that move the clock move creation times too.
    return clock.now()


OPEN_STATUSES = (RequestStatus.SUBMITTED, RequestStatus.RETURNED)


class EmployeeRequest(FourEyesRequest):
    """A request to onboard one employee. The 工号 is reserved when the request is filed and
    retired if it is rejected or withdrawn, so a number shown on a request is never reissued."""

    id_record = models.OneToOneField(
        "accounts.EmployeeIdRecord",
        verbose_name=_("工号"),
        on_delete=models.PROTECT,
        related_name="onboarding_request",
    )
    name = models.CharField(_("name"), max_length=100)
    department = models.ForeignKey(
        "org.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="employee_requests",
    )
    position = models.ForeignKey(
        "org.Position",
        verbose_name=_("position"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="employee_requests",
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("manager"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    phone = PhoneNumberField(_("phone"), blank=True)
    email = models.EmailField(_("email"), blank=True)
    roles = models.JSONField(_("requested roles"), default=list, blank=True)
    start_date = models.DateField(_("start date"), null=True, blank=True)
    rehire_of = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rehire of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The former 工号 when the person worked here before."),
    )
    new_employee = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("employee created"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="onboarding_request",
    )
    # Older than the shared base: Django stamps these times (changing that is a migration).
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta(FourEyesRequest.Meta):
        verbose_name = _("onboarding request")
        verbose_name_plural = _("onboarding requests")
        indexes = request_indexes("emp_request")

    def __str__(self) -> str:
        return f"{self.id_record.employee_id} {self.name}"

    @property
    def employee_id(self) -> str:
        return self.id_record.employee_id


# Access reviews and role-change requests live in their own module; imported here so Django
# registers them with this app.
from .access_models import (  # noqa: E402, F401
    AccessReviewCampaign,
    AccessReviewItem,
    ReviewReminder,
    RoleChangeRequest,
)


class OffboardingStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class Offboarding(models.Model):
    """Taking a 工号 back (工号回收): on the effective day the employee departs, every login
    ends and their records are handed over to the successor (or the public pool when none).

    One live (scheduled or done) offboarding per employee; a cancelled one may be followed by
    a new one.
    """

    employee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("employee"),
        on_delete=models.PROTECT,
        related_name="offboardings",
    )
    successor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("successor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty: customers go to the public pool."),
    )
    effective = models.DateField(_("effective date"))
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=OffboardingStatus.choices,
        default=OffboardingStatus.SCHEDULED,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=_now)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cancelled by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    sessions_ended = models.PositiveIntegerField(_("sessions ended"), default=0)
    tokens_revoked = models.PositiveIntegerField(_("API tokens revoked"), default=0)
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("offboarding")
        verbose_name_plural = _("offboardings")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "effective"], name="offboarding_due")]
        constraints = [
            models.UniqueConstraint(
                fields=["employee"],
                condition=models.Q(status__in=["scheduled", "done"]),
                name="one_live_offboarding",
            )
        ]

    def __str__(self) -> str:
        return f"{self.employee} @ {self.effective:%Y-%m-%d}"


class HandoverItem(models.Model):
    """One line of a handover report: a record that moved (or was left) at an offboarding.

    Holds 工号 strings and a label, not foreign keys, so the report reads the same after the
    records change again.
    """

    offboarding = models.ForeignKey(
        Offboarding, verbose_name=_("offboarding"), on_delete=models.CASCADE, related_name="items"
    )
    step = models.CharField(_("handover step"), max_length=64)
    kind = models.CharField(_("kind"), max_length=32)
    record_id = models.CharField(_("record id"), max_length=64)
    label = models.CharField(_("label"), max_length=255)
    from_employee_id = models.CharField(_("from (工号)"), max_length=32)
    to_employee_id = models.CharField(_("to (工号)"), max_length=32, blank=True)
    moved = models.BooleanField(_("moved"), default=True)
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("handover item")
        verbose_name_plural = _("handover items")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.record_id}: {self.from_employee_id} → {self.to_employee_id}"
