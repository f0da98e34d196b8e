"""The forgotten-password path: a 6-digit code by e-mail or SMS, then a new password."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from gonghao.audit.models import ActorKind
from gonghao.audit.services import record
from gonghao.core import clock, context
from gonghao.core.errors import GonghaoError
from gonghao.messaging.masking import mask_email, mask_phone
from gonghao.messaging.models import Channel
from gonghao.messaging.services import queue_message

from . import audit_actions
from .models import ApiToken, Employee, EmployeeStatus, PasswordResetCode
from .services import validate_new_password

CODE_TTL = timedelta(minutes=10)
MAX_TRIES = 5
CODE_DIGITS = 6

# Sliding windows: (how many, per how long). Counted with the service clock, kept in the cache.
IDENTIFIER_LIMITS = ((1, timedelta(minutes=1)), (5, timedelta(hours=1)))
IP_REQUEST_LIMIT = (20, timedelta(hours=1))
IP_CONFIRM_LIMIT = (60, timedelta(hours=1))

MAX_IDENTIFIER = 254


class InvalidResetCode(GonghaoError):
    code = "invalid_code"
    status = 400
    default_message = _("The code is not correct or has expired. Ask for a new code.")


class TooManyRequests(GonghaoError):
    code = "too_many_requests"
    status = 429
    default_message = _("Too many requests from your address. Try again later.")


REQUEST_ANSWER = _(
    "If this phone number or e-mail address belongs to an account, a code has been sent to it. "
    "It is valid for 10 minutes."
)


# --- identifiers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Identifier:
    """A phone number (E.164) or an e-mail address (lower case); `kind` is '' when neither."""

    kind: str
    value: str

    @property
    def masked(self) -> str:
        if self.kind == Channel.EMAIL:
            return mask_email(self.value)
        if self.kind == Channel.SMS:
            return mask_phone(self.value)
        return f"({len(self.value)})"

    @property
    def key(self) -> str:
        return hashlib.sha256(f"{self.kind}:{self.value}".encode()).hexdigest()[:40]


def parse_identifier(raw: str) -> Identifier:
    value = (raw or "").strip()[:MAX_IDENTIFIER]
    if "@" in value:
        return Identifier(Channel.EMAIL, value.lower())
    try:
        number = phonenumbers.parse(value, settings.PHONENUMBER_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return Identifier("", value)
    if not phonenumbers.is_valid_number(number):
        return Identifier("", value)
    return Identifier(
        Channel.SMS, phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    )


def _matches(identifier: Identifier) -> list[Employee]:
    if identifier.kind == Channel.EMAIL:
        query = Q(email__iexact=identifier.value)
    elif identifier.kind == Channel.SMS:
        query = Q(phone=identifier.value)
    else:
        return []
    return list(Employee.objects.filter(query)[:2])


def _refusal(employee: Employee) -> str | None:
    """Why this account may not be reset by code, or None when it may."""
    if employee.status != EmployeeStatus.ACTIVE:
        return f"status_{employee.status}"
    if employee.is_temporarily_locked:
        return "locked"
    return None


# --- rate limits -------------------------------------------------------------------------------


def _hit(key: str, limit: int, window: timedelta, now: datetime, *, count: bool) -> bool:
    """True when `key` already had `limit` hits within `window`; records this hit if `count`.

    Times come from the service clock (tests move it); the cache only stores them. Two racing
    requests may both pass at the edge: these limits slow guessing, they are not quotas.
    """
    since = now.timestamp() - window.total_seconds()
    stamps = [t for t in cache.get(key, []) if t > since]
    limited = len(stamps) >= limit
    if count and not limited:
        stamps.append(now.timestamp())
        cache.set(key, stamps, timeout=int(window.total_seconds()) + 60)
    return limited


def _ip_limited(kind: str, limit: tuple[int, timedelta], now: datetime) -> bool:
    ip = context.current().client_ip or "unknown"
    return _hit(f"gonghao:reset:{kind}:ip:{ip}", *limit, now, count=True)


def _identifier_limited(identifier: Identifier, now: datetime) -> bool:
    keys = [
        (f"gonghao:reset:id:{identifier.key}:{int(window.total_seconds())}", limit, window)
        for limit, window in IDENTIFIER_LIMITS
    ]
    if any(_hit(key, limit, window, now, count=False) for key, limit, window in keys):
        return True
    for key, limit, window in keys:
        _hit(key, limit, window, now, count=True)
    return False


def _normal_ip(value: str | None) -> str | None:
    try:
        return ipaddress.ip_address(value or "").compressed
    except ValueError:
        return None


# --- codes -------------------------------------------------------------------------------------


def hash_code(employee_pk: int, code: str, purpose: str = "password-reset") -> str:
    """HMAC-SHA256 of a one-time code, keyed by SECRET_KEY and bound to the employee and to
    what the code is for (password reset, login code)."""
    message = f"{purpose}:{employee_pk}:{code}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def _new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def _live_codes(employee: Employee, now: datetime):
    return PasswordResetCode.objects.filter(
        employee=employee, used_at__isnull=True, expires_at__gt=now, attempts__lt=MAX_TRIES
    )


def _audit_request(reason: str, identifier: Identifier, employee: Employee | None) -> None:
    record(
        audit_actions.PASSWORD_RESET_REQUESTED,
        actor=ActorKind.ANONYMOUS,
        target=employee,
        target_type="accounts.employee" if employee is None else "",
        target_label=identifier.masked if employee is None else "",
        params={
            "reason": reason,
            "identifier": identifier.masked,
            "channel": identifier.kind or "unknown",
        },
    )


def request_reset(raw_identifier: str) -> None:
    """Send a code to the phone or e-mail of exactly one active employee; otherwise nothing.

    The caller answers the same whatever happens here, so nobody learns whether an identifier
    belongs to an account. Only the per-address limit raises (TooManyRequests).
    """
    now = clock.now()
    identifier = parse_identifier(raw_identifier)
    if _ip_limited("request", IP_REQUEST_LIMIT, now):
        with transaction.atomic():
            _audit_request("ip_limited", identifier, None)
        raise TooManyRequests()
    with transaction.atomic():
        matches = _matches(identifier)
        employee = matches[0] if len(matches) == 1 else None
        if not identifier.kind:
            reason = "malformed"
        elif not matches:
            reason = "unknown"
        elif employee is None:
            reason = "ambiguous"
        else:
            reason = _refusal(employee) or "sent"
        if _identifier_limited(identifier, now):
            reason = "rate_limited"
        if reason != "sent":
            _audit_request(reason, identifier, employee)
            return
        assert employee is not None
        employee = Employee.objects.select_for_update().get(pk=employee.pk)
        # A new code voids the older ones still alive.
        _live_codes(employee, now).update(expires_at=now)
        code = _new_code()
        PasswordResetCode.objects.create(
            employee=employee,
            code_hash=hash_code(employee.pk, code),
            channel=identifier.kind,
            created_at=now,
            expires_at=now + CODE_TTL,
            requested_ip=_normal_ip(context.current().client_ip),
        )
        _audit_request(reason, identifier, employee)
        queue_message(
            channel=identifier.kind,
            # The address as the company registered it (the typed one may differ in case).
            recipient=employee.email if identifier.kind == Channel.EMAIL else str(employee.phone),
            template="auth.code",
            params={"code": code, "minutes": int(CODE_TTL.total_seconds() // 60)},
            language=translation.get_language(),
            employee=employee,
            actor=ActorKind.ANONYMOUS,
        )


# --- confirming --------------------------------------------------------------------------------


def _audit_failure(reason: str, identifier: Identifier, employee: Employee | None) -> None:
    record(
        audit_actions.PASSWORD_RESET_FAILED,
        actor=ActorKind.ANONYMOUS,
        target=employee,
        target_type="accounts.employee" if employee is None else "",
        target_label=identifier.masked if employee is None else "",
        params={"reason": reason, "identifier": identifier.masked},
    )


def end_sessions(employee: Employee) -> int:
    """Delete every stored web session of this employee; how many were ended."""
    ended = []
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(employee.pk):
            ended.append(session.session_key)
    if ended:
        Session.objects.filter(session_key__in=ended).delete()
    return len(ended)


def _notify(employee: Employee, used_channel: str, changed_at: datetime) -> str | None:
    """Tell the employee by the other channel (the same one when there is no other)."""
    if used_channel == Channel.EMAIL and employee.phone:
        channel, recipient = Channel.SMS, str(employee.phone)
    elif used_channel == Channel.SMS and employee.email:
        channel, recipient = Channel.EMAIL, employee.email
    elif used_channel == Channel.EMAIL and employee.email:
        channel, recipient = Channel.EMAIL, employee.email
    elif employee.phone:
        channel, recipient = Channel.SMS, str(employee.phone)
    else:
        return None
    queue_message(
        channel=channel,
        recipient=recipient,
        template="account.password_changed",
        params={
            "name": employee.name,
            "employee_id": employee.employee_id,
            "changed_at": timezone.localtime(changed_at).strftime("%Y-%m-%d %H:%M"),
        },
        language=translation.get_language(),
        employee=employee,
        actor=employee,
    )
    return channel


def confirm_reset(raw_identifier: str, code: str, new_password: str) -> Employee:
    """Check the code, apply the password policy, set the password and end every login.

    A wrong code counts a try; after MAX_TRIES, or once expired, the code is dead and every
    answer is InvalidResetCode. A password the policy refuses also counts a try (the code
    stays usable while tries are left) and raises ValidationFailed.
    """
    now = clock.now()
    identifier = parse_identifier(raw_identifier)
    if _ip_limited("confirm", IP_CONFIRM_LIMIT, now):
        with transaction.atomic():
            _audit_failure("ip_limited", identifier, None)
        raise TooManyRequests()
    code = (code or "").strip()
    # Failures are audited and counted in a committed transaction, then raised.
    raise_after: GonghaoError | None = None
    with transaction.atomic():
        matches = _matches(identifier)
        employee = matches[0] if len(matches) == 1 else None
        if employee is None:
            _audit_failure("unknown" if not matches else "ambiguous", identifier, None)
            raise_after = InvalidResetCode()
        else:
            employee = Employee.objects.select_for_update().get(pk=employee.pk)
            entry = _live_codes(employee, now).filter(channel=identifier.kind).first()
            refusal = _refusal(employee)
            if refusal is not None:
                _audit_failure(refusal, identifier, employee)
                raise_after = InvalidResetCode()
            elif entry is None:
                _audit_failure("no_live_code", identifier, employee)
                raise_after = InvalidResetCode()
            elif not hmac.compare_digest(entry.code_hash, hash_code(employee.pk, code)):
                entry.attempts += 1
                entry.save(update_fields=["attempts"])
                reason = "wrong_code" if entry.attempts < MAX_TRIES else "wrong_code_exhausted"
                _audit_failure(reason, identifier, employee)
                raise_after = InvalidResetCode()
            else:
                try:
                    validate_new_password(new_password, employee)
                except GonghaoError as refused:
                    entry.attempts += 1
                    entry.save(update_fields=["attempts"])
                    _audit_failure("password_policy", identifier, employee)
                    raise_after = refused
                else:
                    _complete(employee, entry, identifier, new_password, now)
    if raise_after is not None:
        raise raise_after
    assert employee is not None
    return employee


def _complete(
    employee: Employee,
    entry: PasswordResetCode,
    identifier: Identifier,
    new_password: str,
    now: datetime,
) -> None:
    entry.used_at = now
    entry.save(update_fields=["used_at"])
    _live_codes(employee, now).update(expires_at=now)
    employee.set_password(new_password)
    employee.must_change_password = False
    employee.password_changed_at = now
    employee.save(update_fields=["password", "must_change_password", "password_changed_at"])
    tokens = ApiToken.objects.filter(employee=employee, revoked_at__isnull=True).update(
        revoked_at=now
    )
    sessions = end_sessions(employee)
    notified = _notify(employee, identifier.kind, now)
    record(
        audit_actions.PASSWORD_RESET_COMPLETED,
        actor=employee,
        target=employee,
        params={
            "identifier": identifier.masked,
            "channel": identifier.kind,
            "tokens_revoked": tokens,
            "sessions_ended": sessions,
            "notified_by": notified or "",
        },
    )
