"""Shared model plumbing: timestamps."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TimestampedModel(models.Model):
    """Creation and last-change times for any record."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class JobRun(models.Model):
    """When each scheduled job last ran, and how it went (one row per job name)."""

    name = models.CharField(_("job"), max_length=100, primary_key=True)
    last_started_at = models.DateTimeField(_("last started"), null=True, blank=True)
    last_finished_at = models.DateTimeField(_("last finished"), null=True, blank=True)
    last_status = models.CharField(_("last status"), max_length=20, blank=True)
    last_result = models.JSONField(_("last result"), default=dict, blank=True)

    class Meta:
        verbose_name = _("scheduled job run")
        verbose_name_plural = _("scheduled job runs")

    def __str__(self) -> str:
        return self.name
