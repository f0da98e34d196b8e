"""Access reviews (定期审核: campaigns, one item per grant, reminders sent) and role-change
requests (a grant or revocation of a gated role, approved by a second person)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .request_models import (
    FourEyesRequest,
    RequestStatus,
    request_indexes,
    request_status_field,
)


class CampaignScope(models.TextChoices):
    ALL = "all", _("All employees")
    DEPARTMENT = "department", _("One department and its sub-departments")
    ROLE = "role", _("One role")


class UndecidedDefault(models.TextChoices):
    REVOKE = "revoke", _("Revoke undecided grants")
    KEEP = "keep", _("Keep undecided grants")


class Repeat(models.TextChoices):
    NONE = "none", _("Does not repeat")
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    YEARLY = "yearly", _("Yearly")


class CampaignStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class Decision(models.TextChoices):
    PENDING = "pending", _("Undecided")
    KEEP = "keep", _("Keep")
    REVOKE = "revoke", _("Revoke")


class Outcome(models.TextChoices):
    NONE = "", _("Not decided")
    KEPT = "kept", _("Kept")
    REVOKED = "revoked", _("Revoked")
    ALREADY_ENDED = "already_ended", _("The grant had already ended")


class AccessReviewCampaign(models.Model):
    """One round of review: every grant in force in the scope when it started becomes an item.

    Undecided items get `undecided_default` when the campaign closes (the day after its due
    date); a repeating campaign is followed by the next one, linked through `previous`.
    """

    name = models.CharField(_("name"), max_length=200)
    scope = models.CharField(_("scope"), max_length=16, choices=CampaignScope.choices)
    department = models.ForeignKey(
        "org.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    role = models.ForeignKey(
        "access.Role",
        verbose_name=_("role"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    starts_on = models.DateField(_("start date"))
    due_date = models.DateField(_("due date"))
    closes_at = models.DateTimeField(_("closes at"))
    undecided_default = models.CharField(
        _("undecided items at the due date"), max_length=8, choices=UndecidedDefault.choices
    )
    repeat = models.CharField(
        _("repeat"), max_length=16, choices=Repeat.choices, default=Repeat.NONE
    )
    status = models.CharField(
        _("status"), max_length=8, choices=CampaignStatus.choices, default=CampaignStatus.OPEN
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    previous = models.OneToOneField(
        "self",
        verbose_name=_("previous campaign"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="next_campaign",
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("access review campaign")
        verbose_name_plural = _("access review campaigns")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "closes_at"], name="review_campaign_status")]

    def __str__(self) -> str:
        return self.name


class AccessReviewItem(models.Model):
    """One grant under review, assigned to one reviewer, decided once."""

    campaign = models.ForeignKey(
        AccessReviewCampaign,
        verbose_name=_("campaign"),
        on_delete=models.PROTECT,
        related_name="items",
    )
    grant = models.ForeignKey(
        "access.RoleGrant", verbose_name=_("grant"), on_delete=models.PROTECT, related_name="+"
    )
    employee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("employee"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    role = models.ForeignKey(
        "access.Role", verbose_name=_("role"), on_delete=models.PROTECT, related_name="+"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decision = models.CharField(
        _("decision"), max_length=8, choices=Decision.choices, default=Decision.PENDING
    )
    comment = models.TextField(_("comment"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    by_default = models.BooleanField(_("decided by the campaign default"), default=False)
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=Outcome.choices, default=Outcome.NONE, blank=True
    )

    class Meta:
        verbose_name = _("access review item")
        verbose_name_plural = _("access review items")
        ordering = ["campaign_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "grant"], name="one_item_per_grant")
        ]
        indexes = [
            models.Index(fields=["reviewer", "decision"], name="review_item_reviewer"),
            models.Index(fields=["campaign", "decision"], name="review_item_campaign"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.grant_id}"


class ReviewReminder(models.Model):
    """A reminder sent to one reviewer for one campaign on one day: the row makes it once."""

    campaign = models.ForeignKey(
        AccessReviewCampaign,
        verbose_name=_("campaign"),
        on_delete=models.PROTECT,
        related_name="reminders",
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewer"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    sent_on = models.DateField(_("sent on"))
    pending = models.PositiveIntegerField(_("undecided items"), default=0)

    class Meta:
        verbose_name = _("access review reminder")
        verbose_name_plural = _("access review reminders")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "reviewer", "sent_on"], name="one_reminder_a_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.reviewer_id}:{self.sent_on}"


class RoleRequestKind(models.TextChoices):
    GRANT = "grant", _("Grant")
    REVOKE = "revoke", _("Revoke")


# A role-change request is never sent back for changes: the shared statuses but "returned".
RoleRequestStatus = models.TextChoices(
    "RoleRequestStatus",
    [
        (status.name, (status.value, status.label))
        for status in RequestStatus
        if status is not RequestStatus.RETURNED
    ],
)


class RoleChangeRequest(FourEyesRequest):
    """A request to grant or revoke one role of an existing employee, decided by a second
    person (not the requester, not the employee)."""

    employee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("employee"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    role = models.ForeignKey(
        "access.Role", verbose_name=_("role"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("change"), max_length=8, choices=RoleRequestKind.choices)
    expires_at = models.DateTimeField(_("grant until"), null=True, blank=True)
    justification = models.TextField(_("justification"), blank=True)
    status = request_status_field(RoleRequestStatus)

    class Meta(FourEyesRequest.Meta):
        verbose_name = _("role-change request")
        verbose_name_plural = _("role-change requests")
        constraints = [
            models.UniqueConstraint(
                fields=["employee", "role", "kind"],
                condition=Q(status="submitted"),
                name="one_open_role_request",
            )
        ]
        indexes = request_indexes("role_request")

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.role_id} → {self.employee_id}"
