"""Customers: companies and people the company sells to and serves."""

from __future__ import annotations

import re
import unicodedata

from django.conf import settings
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from .constants import (
    Currency,
    CustomerKind,
    CustomerLevel,
    CustomerSource,
    CustomerStatus,
    InteractionKind,
    ShareAccess,
)


class CustomerQuerySet(models.QuerySet):
    def alive(self):
        return self.filter(deleted_at__isnull=True)

    def restrict(self, actor, permission: str):
        """Only the rows the actor reaches with `permission` (see queries.restrict)."""
        from .queries import restrict

        return restrict(self, actor, permission)


class Customer(models.Model):
    """A customer record, owned by one employee; the owner's department drives data scopes.

    `name_folded` and `phone_digits` are kept for search (no function on the column at query
    time, so the database can scan or index them directly); `deleted_at` makes deletion soft,
    so an administrator can restore.
    """

    kind = models.CharField(
        _("kind"), max_length=10, choices=CustomerKind.choices, default=CustomerKind.COMPANY
    )
    name = models.CharField(_("name"), max_length=200)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    level = models.CharField(_("level"), max_length=2, choices=CustomerLevel.choices, blank=True)
    source = models.CharField(
        _("source"), max_length=20, choices=CustomerSource.choices, blank=True
    )
    status = models.CharField(
        _("status"), max_length=10, choices=CustomerStatus.choices, default=CustomerStatus.LEAD
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="customers",
    )
    owner_department = models.ForeignKey(
        "org.Department",
        verbose_name=_("owner's department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="customers",
    )
    # When the current owner got the customer (created, transferred, claimed): the public pool
    # counts "not followed up" from here when it is later than the last interaction.
    owner_since = models.DateTimeField(_("owner since"), null=True, blank=True)
    # Set while the current owner holds the customer because they claimed it from the pool.
    claimed_at = models.DateTimeField(_("claimed from the pool at"), null=True, blank=True)
    pool_since = models.DateTimeField(_("in the public pool since"), null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    phone_digits = models.CharField(_("phone digits"), max_length=20, blank=True, editable=False)
    name_folded = models.CharField(_("name for search"), max_length=200, blank=True, editable=False)
    email = models.EmailField(_("e-mail"), blank=True)
    id_number = models.CharField(_("ID number"), max_length=32, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    tags = models.CharField(_("tags"), max_length=300, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("deleted by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    objects = CustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "deleted_at"], name="customer_owner"),
            models.Index(fields=["owner_department", "deleted_at"], name="customer_dept"),
            models.Index(fields=["name"], name="customer_name"),
            models.Index(fields=["phone_digits"], name="customer_phone"),
            models.Index(fields=["email"], name="customer_email"),
            models.Index(fields=["status"], name="customer_status"),
            models.Index(fields=["level"], name="customer_level"),
            models.Index(fields=["updated_at"], name="customer_updated"),
            models.Index(fields=["owner", "claimed_at"], name="customer_claimed"),
            # The dashboard reads every figure of the customers from these indexes alone.
            models.Index(
                fields=["created_at", "deleted_at", "owner_department", "owner"],
                name="customer_created",
            ),
            models.Index(
                fields=[
                    "deleted_at",
                    "status",
                    "level",
                    "source",
                    "owner_department",
                    "created_at",
                ],
                name="customer_dashboard",
            ),
            # Scoped lists read the newest live customers of an owner or a department: these
            # give the first page without sorting all of them (flat as the table grows).
            models.Index(
                fields=["owner", "updated_at", "id"],
                name="customer_owner_live",
                condition=models.Q(deleted_at__isnull=True),
            ),
            models.Index(
                fields=["owner_department", "updated_at", "id"],
                name="customer_dept_live",
                condition=models.Q(deleted_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    SEARCH_FIELDS = ("name_folded", "phone_digits")

    def save(self, *args, **kwargs):
        from .search_index import index_customers, reindex_customer

        self.refresh_search_fields()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, *self.SEARCH_FIELDS}
        adding = self._state.adding
        with transaction.atomic(using=kwargs.get("using")):
            super().save(*args, **kwargs)
            # The search index moves with the row, in its transaction (see search_index).
            if adding:
                index_customers([self])
            elif getattr(self, "_indexed_as", None) != self._search_key():
                reindex_customer(self)
        self._indexed_as = self._search_key()

    @classmethod
    def from_db(cls, db, field_names, values):
        customer = super().from_db(db, field_names, values)
        customer._indexed_as = customer._search_key()
        return customer

    def _search_key(self) -> tuple[str | None, str | None]:
        return (self.__dict__.get("name_folded"), self.__dict__.get("phone_digits"))

    def refresh_search_fields(self) -> None:
        """Derive the search columns; bulk inserts call this themselves (they skip save())."""
        self.name_folded = fold(self.name)
        digits = re.sub(r"\D", "", self.phone or "")
        self.phone_digits = digits[2:] if (self.phone or "").startswith("+86") else digits


def fold(text: str) -> str:
    """Case-folded, full-width to ASCII: what search compares."""
    return unicodedata.normalize("NFKC", text or "").casefold()


from .search_index import CustomerGram  # noqa: E402,F401  (the index's model lives with it)


class Contact(models.Model):
    """A person at a company customer. Seen and changed by whoever may see / edit the customer."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("title"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    wechat = models.CharField(_("WeChat ID"), max_length=64, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-is_primary", "name", "id"]
        indexes = [models.Index(fields=["customer", "deleted_at"], name="contact_customer")]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(is_primary=True, deleted_at__isnull=True),
                name="one_primary_contact",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Interaction(models.Model):
    """A follow-up (跟进记录): who (工号) did what with the customer, when, and what is next."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="interactions"
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="interactions",
    )
    employee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("employee"),
        on_delete=models.PROTECT,
        related_name="interactions",
    )
    kind = models.CharField(_("type"), max_length=20, choices=InteractionKind.choices)
    occurred_at = models.DateTimeField(_("time"))
    content = models.TextField(_("content"))
    outcome = models.CharField(_("outcome"), max_length=300, blank=True)
    next_follow_up = models.DateField(_("next follow-up"), null=True, blank=True)
    follow_up_done_at = models.DateTimeField(_("follow-up done at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            # Both covering (employee, customer included) so the dashboard counts follow-ups per
            # employee in a period from an index alone, through customers or through employees.
            models.Index(
                fields=["customer", "occurred_at", "employee"], name="interaction_timeline"
            ),
            models.Index(
                fields=["employee", "occurred_at", "customer"], name="interaction_employee"
            ),
            models.Index(
                fields=["employee", "next_follow_up", "follow_up_done_at"],
                name="interaction_due",
            ),
            # The dashboard: follow-ups in a period (where the database cannot skip-scan the
            # index above), and open follow-ups past due; both covering.
            models.Index(fields=["occurred_at", "employee", "customer"], name="interaction_period"),
            models.Index(
                fields=["customer", "next_follow_up"],
                condition=models.Q(follow_up_done_at__isnull=True),
                name="interaction_open_due",
            ),
            # Small (open follow-ups only): by customer for a scope, by date for everyone.
            models.Index(
                fields=["next_follow_up", "customer"],
                condition=models.Q(follow_up_done_at__isnull=True),
                name="interaction_open_by_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d}"


class Stage(models.Model):
    """A step of the sales pipeline (初步接洽 → … → 赢单 / 输单); administrators configure them."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=50)
    name_en = models.CharField(_("name (English)"), max_length=50)
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    probability = models.PositiveSmallIntegerField(_("default probability (%)"), default=0)
    is_won = models.BooleanField(_("won"), default=False)
    is_lost = models.BooleanField(_("lost"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("pipeline stage")
        verbose_name_plural = _("pipeline stages")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        from django.utils.translation import get_language

        return self.name_zh if (get_language() or "").startswith("zh") else self.name_en

    @property
    def is_closed(self) -> bool:
        return self.is_won or self.is_lost


class Opportunity(models.Model):
    """A sales opportunity (商机) on a customer, owned by an employee, moving through stages."""

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="opportunities",
    )
    name = models.CharField(_("name"), max_length=200)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2, default=0)
    currency = models.CharField(
        _("currency"), max_length=3, choices=Currency.choices, default=Currency.CNY
    )
    stage = models.ForeignKey(
        Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="opportunities"
    )
    probability = models.PositiveSmallIntegerField(_("probability (%)"), default=0)
    expected_close = models.DateField(_("expected close date"), null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="opportunities",
    )
    owner_department = models.ForeignKey(
        "org.Department",
        verbose_name=_("owner's department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="opportunities",
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "deleted_at"], name="opportunity_owner"),
            models.Index(fields=["owner_department", "deleted_at"], name="opportunity_dept"),
            models.Index(fields=["stage", "deleted_at"], name="opportunity_stage"),
            models.Index(fields=["customer"], name="opportunity_customer"),
            models.Index(fields=["expected_close"], name="opportunity_close"),
            # The dashboard: the win rate over a period, and the open pipeline by stage and
            # currency read from the index alone.
            models.Index(
                fields=["closed_at", "deleted_at", "stage", "owner_department"],
                name="opportunity_closed",
            ),
            models.Index(
                fields=["deleted_at", "stage", "currency", "amount", "owner_department"],
                name="opportunity_dashboard",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class StageChange(models.Model):
    """One move of an opportunity from a stage to another: the pipeline's history."""

    opportunity = models.ForeignKey(
        Opportunity,
        verbose_name=_("opportunity"),
        on_delete=models.CASCADE,
        related_name="stage_changes",
    )
    from_stage = models.ForeignKey(
        Stage,
        verbose_name=_("from stage"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    to_stage = models.ForeignKey(
        Stage, verbose_name=_("to stage"), on_delete=models.PROTECT, related_name="+"
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    changed_at = models.DateTimeField(_("changed at"))

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.opportunity_id}: {self.from_stage_id} → {self.to_stage_id}"


class CustomerShare(models.Model):
    """A customer shared with an employee or a department (optionally its sub-departments).

    Read shares let the recipients see the customer as if it were in their scope; editable
    ones let them edit it too. A share widens the reach of permissions the recipient already
    holds (customer.view, customer.export, customer.edit, opportunity.view): it never grants a
    permission and never unmasks personal data. It works until `expires_at` (the end of the
    `until` day) or until revoked; the row is kept for the record.
    """

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="shares"
    )
    employee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("shared with (employee)"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="customer_shares",
    )
    department = models.ForeignKey(
        "org.Department",
        verbose_name=_("shared with (department)"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="customer_shares",
    )
    include_subdepartments = models.BooleanField(_("including sub-departments"), default=False)
    access = models.CharField(
        _("access"), max_length=10, choices=ShareAccess.choices, default=ShareAccess.READ
    )
    until = models.DateField(_("until"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("shared by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("customer share")
        verbose_name_plural = _("customer shares")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["employee", "revoked_at"], name="share_employee"),
            models.Index(fields=["department", "revoked_at"], name="share_department"),
            models.Index(fields=["customer", "revoked_at"], name="share_customer"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(employee__isnull=False, department__isnull=True)
                    | models.Q(employee__isnull=True, department__isnull=False)
                ),
                name="share_one_recipient",
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} → {self.employee_id or self.department_id}"
