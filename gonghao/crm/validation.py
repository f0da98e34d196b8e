"""Cleaning customer input: names, choices, phone numbers, e-mail, mainland ID numbers."""

from __future__ import annotations

import re
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from gonghao.core.errors import ValidationFailed
from gonghao.core.text import has_control_characters

from .constants import CustomerKind, CustomerLevel, CustomerSource, CustomerStatus

LIMITS = {"name": 200, "industry": 100, "address": 300, "tags": 300, "notes": 5000}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def normalise_phone(raw: str) -> str:
    """E.164 (+8613812345678) for a valid mainland or international number."""
    try:
        number = phonenumbers.parse(raw, settings.PHONENUMBER_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValueError(raw)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def valid_mainland_id(value: str) -> bool:
    """GB 11643-1999: 17 digits and an ISO 7064 MOD 11-2 check character."""
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17]


def clean_text(
    name: str, value: Any, limit: int | None, errors: dict[str, list[str]]
) -> str | None:
    """One text field, stripped: control characters refused (in notes only NUL), length capped.

    Returns None after recording the problem in `errors`.
    """
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[name] = [_("Text is expected.")]
        return None
    value = value.strip()
    if has_control_characters(value, multiline=name == "notes"):
        errors[name] = [_("Control characters are not allowed.")]
        return None
    if limit is not None and len(value) > limit:
        errors[name] = [_("At most %(n)d characters.") % {"n": limit}]
        return None
    return value


def clean_customer_fields(data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """Validate and normalise the given fields; raise ValidationFailed listing every problem."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for name, value in data.items():
        text = clean_text(name, value, LIMITS.get(name), errors)
        if text is not None:
            cleaned[name] = text
    if not partial or "name" in cleaned:
        # A name refused above keeps its own, clearer message.
        if not cleaned.get("name") and "name" not in errors:
            errors["name"] = [_("A name is required.")]
    choices = {
        "kind": CustomerKind.values,
        "level": ["", *CustomerLevel.values],
        "source": ["", *CustomerSource.values],
        "status": CustomerStatus.values,
    }
    for name, allowed in choices.items():
        if name in cleaned and cleaned[name] not in allowed:
            errors[name] = [
                _("Choose one of: %(values)s") % {"values": ", ".join(a for a in allowed if a)}
            ]
    if cleaned.get("phone"):
        try:
            cleaned["phone"] = normalise_phone(cleaned["phone"])
        except ValueError:
            errors["phone"] = [_("Not a valid phone number.")]
    if cleaned.get("email"):
        try:
            validate_email(cleaned["email"])
            cleaned["email"] = cleaned["email"].lower()
        except ValidationError:
            errors["email"] = [_("Not a valid e-mail address.")]
    if cleaned.get("id_number"):
        cleaned["id_number"] = cleaned["id_number"].upper()
        if not valid_mainland_id(cleaned["id_number"]):
            errors["id_number"] = [_("Not a valid ID number (18 characters with check digit).")]
    if "tags" in cleaned:
        tags = [t.strip() for t in re.split(r"[,，;；]", cleaned["tags"]) if t.strip()]
        cleaned["tags"] = ",".join(dict.fromkeys(tags))
    if errors:
        raise ValidationFailed(field_errors=errors)
    return cleaned
