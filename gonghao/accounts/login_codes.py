"""One-time login codes by SMS or e-mail: a fallback second factor where allowed.

Off unless GONGHAO_MFA_FALLBACK_CODES is on, and never under the mlps3 preset (a cryptographic
factor — TOTP or a security key — stays required there). Only for employees who have a second
factor already (the code replaces the authenticator app for one login, e.g. a phone left at
home). 6 digits, valid 5 minutes, 5 tries, bound to the login attempt that asked for it, a new
code voids the old one, at most one send per minute; stored as an HMAC (as reset codes are);
sent to the phone (SMS) or else the e-mail the company registered. Audited, never the code.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from gonghao.audit.models import ActorKind
from gonghao.audit.services import record
from gonghao.core import clock
from gonghao.messaging.masking import mask_email, mask_phone
from gonghao.messaging.models import Channel
from gonghao.messaging.services import queue_message

from . import audit_actions, second_factors
from .models import Employee, SecondFactorCode
from .reset import hash_code

CODE_TTL = timedelta(minutes=5)
MAX_TRIES = 5
RESEND_AFTER = timedelta(minutes=1)
CODE_DIGITS = 6
API_BINDING = "api"
PURPOSE = "login-code"

SENT_ANSWER = _(
    "If the 工号 and password are right and one-time codes are allowed for this account, "
    "a code has been sent to the registered phone or e-mail. It is valid for 5 minutes."
)

WEB_ANSWER = _(
    "If one-time codes are allowed for your account, a code has been sent to your registered "
    "phone or e-mail. It is valid for 5 minutes."
)


def allowed() -> bool:
    return settings.GONGHAO_MFA_FALLBACK_CODES and settings.GONGHAO_PASSWORD_PRESET != "mlps3"


def session_binding(session: Any) -> str:
    """The web login attempt: a digest of the (pre-login) session holding the pending login."""
    if not session.session_key:
        session.save()
    key = f"login-attempt:{session.session_key}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), key, hashlib.sha256).hexdigest()


def _destination(employee: Employee) -> tuple[str, str, str] | None:
    if employee.phone:
        return Channel.SMS, str(employee.phone), mask_phone(str(employee.phone))
    if employee.email:
        return Channel.EMAIL, employee.email, mask_email(employee.email)
    return None


def _audit(employee: Employee, reason: str, channel: str = "", masked: str = "") -> None:
    record(
        audit_actions.MFA_CODE_SENT,
        actor=ActorKind.ANONYMOUS,
        target=employee,
        params={"reason": reason, "channel": channel, "recipient": masked},
    )


def send_code(employee: Employee, *, binding: str) -> str:
    """Send a code for this login attempt if everything allows it; why not, otherwise.

    The callers answer the same whatever this returns."""
    now = clock.now()
    with transaction.atomic():
        employee = Employee.objects.select_for_update().get(pk=employee.pk)
        destination = _destination(employee)
        latest = SecondFactorCode.objects.filter(employee=employee).first()
        if not allowed():
            reason = "disabled"
        elif not second_factors.has_second_factor(employee):
            reason = "no_second_factor"
        elif destination is None:
            reason = "no_channel"
        elif latest is not None and now - latest.created_at < RESEND_AFTER:
            reason = "rate_limited"
        else:
            reason = "sent"
        if reason != "sent" or destination is None:
            _audit(employee, reason)
            return reason
        channel, recipient, masked = destination
        SecondFactorCode.objects.filter(
            employee=employee, used_at__isnull=True, expires_at__gt=now
        ).update(expires_at=now)
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        SecondFactorCode.objects.create(
            employee=employee,
            code_hash=hash_code(employee.pk, code, PURPOSE),
            channel=channel,
            binding=binding,
            created_at=now,
            expires_at=now + CODE_TTL,
        )
        _audit(employee, reason, channel, masked)
        queue_message(
            channel=channel,
            recipient=recipient,
            template="auth.code",
            params={"code": code, "minutes": int(CODE_TTL.total_seconds() // 60)},
            language=translation.get_language(),
            employee=employee,
            actor=ActorKind.ANONYMOUS,
        )
    return reason


def _live(employee: Employee, binding: str):
    return SecondFactorCode.objects.filter(
        employee=employee,
        binding=binding,
        used_at__isnull=True,
        expires_at__gt=clock.now(),
        attempts__lt=MAX_TRIES,
    )


def has_live_code(employee: Employee, binding: str) -> bool:
    return allowed() and _live(employee, binding).exists()


def use_code(employee: Employee, code: str, *, binding: str, count_miss: bool = True) -> bool:
    """True, and the code is spent, when `code` is the live code of this login attempt.

    A miss uses up one of the code's tries (unless `count_miss` is False: the caller will
    try the employee's authenticators first and call `count_miss_of` if those fail too)."""
    code = (code or "").strip()
    if not allowed() or not code.isdigit() or len(code) != CODE_DIGITS:
        if count_miss:
            count_miss_of(employee, binding)
        return False
    with transaction.atomic():
        entry = _live(employee, binding).select_for_update().first()
        if entry is None:
            return False
        if hmac.compare_digest(entry.code_hash, hash_code(employee.pk, code, PURPOSE)):
            entry.used_at = clock.now()
            entry.save(update_fields=["used_at"])
            return True
        if count_miss:
            entry.attempts += 1
            entry.save(update_fields=["attempts"])
    return False


def count_miss_of(employee: Employee, binding: str) -> None:
    with transaction.atomic():
        entry = _live(employee, binding).select_for_update().first()
        if entry is not None:
            entry.attempts += 1
            entry.save(update_fields=["attempts"])


def request_code_for_token(raw_employee_id: str, password: str) -> None:
    """The API's "send me a code": the password is checked (failures audited and counted as
    at login); the caller answers the same whatever happens."""
    from gonghao.core.errors import GonghaoError

    from .services import authenticate_employee

    try:
        employee = authenticate_employee(raw_employee_id, password)
    except GonghaoError:
        return
    send_code(employee, binding=API_BINDING)
