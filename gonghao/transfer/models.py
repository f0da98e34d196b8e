"""Import batches: the uploaded file (kept in the database, never under its own name on disk),
its validation outcome, and which records each committed import created."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportKind(models.TextChoices):
    CUSTOMERS = "customers", _("Customers")
    CONTACTS = "contacts", _("Contacts")
    EMPLOYEES = "employees", _("Employees")


class ImportStatus(models.TextChoices):
    VALIDATING = "validating", _("Checking")
    PREVIEW = "preview", _("Ready to import")
    INVALID = "invalid", _("Has errors")
    COMMITTING = "committing", _("Importing")
    COMMITTED = "committed", _("Imported")


class ImportBatch(models.Model):
    """One uploaded file on its way from preview to an all-or-nothing commit.

    `errors` keeps codes and parameters, not sentences, so each viewer reads them in their
    own language. `processed` / `total` are what the progress poll reports.
    """

    kind = models.CharField(_("kind"), max_length=20, choices=ImportKind.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=ImportStatus.choices, default=ImportStatus.VALIDATING
    )
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    file_format = models.CharField(_("format"), max_length=10, blank=True)
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    content = models.BinaryField(_("content"), editable=False)
    size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    total = models.PositiveIntegerField(_("rows"), default=0)
    valid = models.PositiveIntegerField(_("valid rows"), default=0)
    processed = models.PositiveIntegerField(_("rows processed"), default=0)
    created_count = models.PositiveIntegerField(_("records created"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    preview = models.JSONField(_("preview"), default=list, blank=True)
    columns = models.JSONField(_("columns"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("uploaded at"))
    committed_at = models.DateTimeField(_("imported at"), null=True, blank=True)

    class Meta:
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_by", "created_at"], name="import_by_creator")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.file_name}"


class ImportedRecord(models.Model):
    """A record created by a committed import: "imported by batch N" on the record's page."""

    batch = models.ForeignKey(
        ImportBatch, verbose_name=_("batch"), on_delete=models.PROTECT, related_name="records"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=ImportKind.choices)
    object_id = models.BigIntegerField(_("record id"))

    class Meta:
        verbose_name = _("imported record")
        verbose_name_plural = _("imported records")
        indexes = [models.Index(fields=["kind", "object_id"], name="imported_record")]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id} ← #{self.batch_id}"
