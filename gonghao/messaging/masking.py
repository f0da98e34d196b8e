"""Masking recipients for logs and audit events: 138****1234, z***@example.com."""

from __future__ import annotations


def mask_phone(value: str) -> str:
    digits = value[3:] if value.startswith("+86") else value.lstrip("+")
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


def mask_recipient(channel: str, value: str) -> str:
    if not value:
        return value
    return mask_email(value) if channel == "email" else mask_phone(value)
