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


class InteractionKind(models.TextChoices):
    CALL = "call", _("Call")
    VISIT = "visit", _("Visit")
    MEETING = "meeting", _("Meeting")
    EMAIL = "email", _("E-mail")
    WECHAT = "wechat", _("WeChat")
    NOTE = "note", _("Note")
    SERVICE_REQUEST = "service_request", _("Service request")


class Currency(models.TextChoices):
    CNY = "CNY", _("Chinese yuan (CNY)")
    USD = "USD", _("US dollar (USD)")
    EUR = "EUR", _("Euro (EUR)")
    HKD = "HKD", _("Hong Kong dollar (HKD)")
    JPY = "JPY", _("Japanese yen (JPY)")


class ShareAccess(models.TextChoices):
    READ = "read", _("Read only")
    EDIT = "edit", _("Can edit")
