"""Password policy presets (`global`, `mlps3`) and the effective policy after overrides."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MAX_LENGTH = 128


@dataclass(frozen=True)
class PasswordPolicy:
    name: str
    min_length: int = 12
    # How many of the four classes (lower, upper, digit, other) a password needs; 0 = off.
    require_classes: int = 0
    # How many previous passwords (the current one included) may not be reused; 0 = off.
    history: int = 0
    # Days after which a password must be changed; 0 = never expires.
    max_age_days: int = 0
    # Days before expiry from which the employee is warned.
    expiry_warning_days: int = 14


PRESETS = {
    # NIST SP 800-63B / OWASP ASVS: length and a blocklist, no composition rule, no rotation.
    "global": PasswordPolicy(name="global", min_length=12),
    # 等保2.0 level 3 (GB/T 22239-2019): complexity, periodic change, no reuse.
    "mlps3": PasswordPolicy(
        name="mlps3",
        min_length=12,
        require_classes=3,
        history=5,
        max_age_days=90,
        expiry_warning_days=14,
    ),
}


# What GONGHAO_PASSWORD_OVERRIDES may change.
KNOBS = frozenset(f.name for f in fields(PasswordPolicy)) - {"name"}


def current() -> PasswordPolicy:
    preset = settings.GONGHAO_PASSWORD_PRESET
    if preset not in PRESETS:
        raise ImproperlyConfigured(
            f"GONGHAO_PASSWORD_PRESET must be one of {sorted(PRESETS)}, not {preset!r}"
        )
    overrides = dict(settings.GONGHAO_PASSWORD_OVERRIDES)
    unknown = sorted(set(overrides) - KNOBS)
    if unknown:
        raise ImproperlyConfigured(f"GONGHAO_PASSWORD_OVERRIDES has unknown keys: {unknown}")
    policy = replace(PRESETS[preset], **overrides)
    if not 8 <= policy.min_length <= MAX_LENGTH:
        raise ImproperlyConfigured(f"password min_length must be between 8 and {MAX_LENGTH}")
    if not 0 <= policy.require_classes <= 4:
        raise ImproperlyConfigured("password require_classes must be between 0 and 4")
    return policy
