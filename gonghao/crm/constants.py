"""Choices of the CRM's records."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CustomerKind(models.TextChoices):
    COMPANY = "company", _("Company")
    PERSON = "person", _("Person")


class CustomerLevel(models.TextChoices):
    A = "A", _("A (key account)")
    B = "B", _("B (regular)")
    C = "C", _("C (small)")
    D = "D", _("D (inactive)")


class CustomerSource(models.TextChoices):
    REFERRAL = "referral", _("Referral")
    WEBSITE = "website", _("Website")
    EXHIBITION = "exhibition", _("Exhibition")
    COLD_CALL = "cold_call", _("Cold call")
    ADVERTISING = "advertising", _("Advertising")
    PARTNER = "partner", _("Partner")
    OTHER = "other", _("Other")


class CustomerStatus(models.TextChoices):
    LEAD = "lead", _("Lead")
    PROSPECT = "prospect", _("Prospect")
    ACTIVE = "active", _("Active customer")
    DORMANT = "dormant", _("Dormant")
    LOST = "lost", _("Lost")


SENSITIVE_FIELDS = ("phone", "email", "id_number")
