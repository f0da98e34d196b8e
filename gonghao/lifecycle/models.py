"""Onboarding requests: a department head asks for a new employee, an approver decides."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField


class RequestStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    RETURNED = "returned", _("Returned for changes")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


OPEN_STATUSES = (RequestStatus.SUBMITTED, RequestStatus.RETURNED)


class EmployeeRequest(models.Model):
    """A request to onboard one employee. The 工号 is reserved when the request is filed and
    retired if it is rejected or withdrawn, so a number shown on a request is never reissued."""

    id_record = models.OneToOneField(
        "accounts.EmployeeIdRecord",
        verbose_name=_("工号"),
        on_delete=models.PROTECT,
        related_name="onboarding_request",
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=RequestStatus.choices,
        default=RequestStatus.SUBMITTED,
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
    new_employee = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("employee created"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="onboarding_request",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("onboarding request")
        verbose_name_plural = _("onboarding requests")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="emp_request_status"),
            models.Index(fields=["requested_by", "status"], name="emp_request_requester"),
        ]

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
