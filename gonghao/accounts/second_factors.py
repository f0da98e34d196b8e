"""Second factors (allauth.mfa authenticators): who must have one, code checks, the admin reset."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from gonghao.access import services as access
from gonghao.audit.services import record
from gonghao.core.errors import GonghaoError

from . import audit_actions
from .models import Employee

# A role list holding this word requires a second factor of every employee.
EVERYONE = "everyone"


class SecondFactorRequired(GonghaoError):
    code = "second_factor_required"
    status = 401
    default_message = _("A second factor is required.")


class InvalidSecondFactor(GonghaoError):
    code = "invalid_second_factor"
    status = 401
    default_message = _("The second-factor code is not correct.")


class SecondFactorEnrollmentRequired(GonghaoError):
    code = "second_factor_enrollment_required"
    status = 403
    default_message = _("Set up two-factor authentication before you continue.")


def _authenticators(employee: Any):
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user_id=employee.pk)


def has_second_factor(employee: Any) -> bool:
    """True when the employee has an authenticator that can be asked at login (TOTP, key)."""
    from allauth.mfa.models import Authenticator

    return (
        _authenticators(employee)
        .filter(type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN])
        .exists()
    )


def has_any_authenticator(employee: Any) -> bool:
    return _authenticators(employee).exists()


def must_have_second_factor(employee: Any) -> bool:
    """Policy: everyone (mlps3 preset or GONGHAO_MFA_REQUIRED_FOR_ALL), or a required role."""
    required = set(settings.GONGHAO_MFA_REQUIRED_ROLES)
    if settings.GONGHAO_MFA_REQUIRED_FOR_ALL or EVERYONE in required:
        return True
    return any(role.code in required for role in access.roles_of(employee))


def needs_enrolment(employee: Any) -> bool:
    """The employee must have a second factor and has none yet."""
    return must_have_second_factor(employee) and not has_second_factor(employee)


def check_code(employee: Employee, code: str) -> bool:
    """A TOTP code or an unused recovery code; allauth's classes refuse a replayed code."""
    from allauth.mfa.models import Authenticator

    code = (code or "").strip()
    if not code or len(code) > 64:
        return False
    candidates = sorted(
        _authenticators(employee).exclude(type=Authenticator.Type.WEBAUTHN),
        key=lambda a: a.type != Authenticator.Type.TOTP,  # TOTP first, then recovery codes
    )
    for authenticator in candidates:
        if authenticator.wrap().validate_code(code):
            authenticator.record_usage()
            return True
    return False


def reset_second_factors(employee: Employee, *, actor: Any) -> int:
    """Delete every authenticator of `employee`; audited; the employee is told. Rows deleted."""
    from allauth.mfa.models import Authenticator

    access.require(actor, "mfa.reset")
    with transaction.atomic():
        Employee.objects.select_for_update().filter(pk=employee.pk).first()
        rows = list(Authenticator.objects.filter(user_id=employee.pk).order_by("pk"))
        if not rows:
            return 0
        Authenticator.objects.filter(pk__in=[a.pk for a in rows]).delete()
        record(
            audit_actions.MFA_RESET,
            actor=actor,
            target=employee,
            params={"types": sorted({a.type for a in rows})},
        )
        _tell_employee(employee, actor=actor)
    return len(rows)


def _tell_employee(employee: Employee, *, actor: Any) -> None:
    from gonghao.messaging.services import queue_message

    if employee.email:
        channel, recipient = "email", employee.email
    elif employee.phone:
        channel, recipient = "sms", str(employee.phone)
    else:
        return
    queue_message(
        channel=channel,
        recipient=recipient,
        template="account.second_factor_reset",
        params={"name": employee.name, "employee_id": employee.employee_id},
        employee=employee,
        actor=actor,
    )
