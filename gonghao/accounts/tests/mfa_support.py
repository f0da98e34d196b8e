"""Helpers of the 2FA tests: allauth's TOTP on our movable clock, codes, enrolment shortcuts."""

from __future__ import annotations

from types import SimpleNamespace

from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal import auth as totp_auth
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.core.cache import cache

from gonghao.accounts.models import Employee

ACTIVATE_URL = "/accounts/2fa/totp/activate/"
DEACTIVATE_URL = "/accounts/2fa/totp/deactivate/"
AUTHENTICATE_URL = "/accounts/2fa/authenticate/"
RECOVERY_CODES_URL = "/accounts/2fa/recovery-codes/"
GENERATE_CODES_URL = "/accounts/2fa/recovery-codes/generate/"
MFA_INDEX_URL = "/accounts/2fa/"
WEBAUTHN_LIST_URL = "/accounts/2fa/webauthn/"
WEBAUTHN_ADD_URL = "/accounts/2fa/webauthn/add/"

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def follow_clock(monkeypatch, clock) -> None:
    """allauth's TOTP reads `time.time()`; make it read our frozen clock instead."""
    monkeypatch.setattr(totp_auth, "time", SimpleNamespace(time=lambda: clock().timestamp()))


def code_at(secret: str, clock) -> str:
    counter = int(clock().timestamp()) // 30
    return format_hotp_value(hotp_value(secret, counter))


def wrong_code(secret: str, clock) -> str:
    right = code_at(secret, clock)
    return f"{(int(right) + 1) % 1_000_000:06d}"


def enable_totp(employee: Employee, secret: str = SECRET) -> list[str]:
    """Give the employee a TOTP and recovery codes directly; returns the recovery codes."""
    TOTP.activate(employee, secret)
    return RecoveryCodes.activate(employee).generate_codes()


def authenticators(employee: Employee) -> list[str]:
    return sorted(Authenticator.objects.filter(user_id=employee.pk).values_list("type", flat=True))


def clear_cache() -> None:
    cache.clear()
