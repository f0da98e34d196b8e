"""Masking personal data for display: 138****1234, z***@example.com, 110101********1234, w***9."""

from __future__ import annotations


def mask_phone(value: str) -> str:
    digits = value.lstrip("+")
    if value.startswith("+86"):
        digits = value[3:]
    elif value.startswith("+"):
        digits = value[1:]
    if len(digits) <= 4:
        return "*" * len(digits)
    if len(digits) < 8:
        return digits[:1] + "*" * (len(digits) - 3) + digits[-2:]
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_email(value: str) -> str:
    local, _sep, domain = value.partition("@")
    if not domain:
        return "***"
    return (local[:1] or "*") + "***@" + domain


def mask_id_number(value: str) -> str:
    if len(value) <= 8:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_wechat(value: str) -> str:
    if len(value) <= 2:
        return "*" * len(value)
    return value[:1] + "***" + value[-1:]


_MASKS = {
    "phone": mask_phone,
    "email": mask_email,
    "id_number": mask_id_number,
    "wechat": mask_wechat,
}


def mask(field: str, value: str) -> str:
    if not value:
        return value
    return _MASKS[field](value)
