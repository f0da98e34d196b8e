"""Customers: companies and people the company sells to and serves."""

from __future__ import annotations

import re
import unicodedata

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .constants import CustomerKind, CustomerLevel, CustomerSource, CustomerStatus


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
        ]

    def __str__(self) -> str:
        return self.name

    SEARCH_FIELDS = ("name_folded", "phone_digits")

    def save(self, *args, **kwargs):
        self.refresh_search_fields()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, *self.SEARCH_FIELDS}
        super().save(*args, **kwargs)

    def refresh_search_fields(self) -> None:
        """Derive the search columns; bulk inserts call this themselves (they skip save())."""
        self.name_folded = fold(self.name)
        digits = re.sub(r"\D", "", self.phone or "")
        self.phone_digits = digits[2:] if (self.phone or "").startswith("+86") else digits


def fold(text: str) -> str:
    """Case-folded, full-width to ASCII: what search compares."""
    return unicodedata.normalize("NFKC", text or "").casefold()
