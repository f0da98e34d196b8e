"""Account hygiene run by the scheduler: erase departed employees' personal data after the
retention period; disable dormant accounts and tell their managers; re-enable (an admin action).

What erasure keeps, and why: the 工号 and the name. The 工号 is the key every audit event,
customer history and report points at, and the audit log is append-only and hash-chained, so
its labels already carry "工号 name"; keeping the name on the employee row keeps those
trails readable and matches what labour-record retention asks of an employer. Everything that
reaches the person or proves their identity goes: phone, e-mail, the password hash and its
history, reset codes (with the address they were asked from), second factors, the addresses
in sent messages, and the phone and e-mail on their onboarding requests.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from gonghao.access import services as access
from gonghao.accounts.models import (
    Employee,
    EmployeeStatus,
    PasswordHistory,
    PasswordResetCode,
)
from gonghao.audit.services import record
from gonghao.core import clock
from gonghao.core.errors import Conflict, PermissionDenied
from gonghao.messaging.constants import REDACTED_FAILED, REDACTED_SENT
from gonghao.messaging.models import Channel, Message, MessageStatus
from gonghao.messaging.services import queue_message

from . import audit_actions
from .models import EmployeeRequest

DORMANT_TEMPLATE = "account.dormant_disabled_manager_notice"
ERASED = "[erased]"


# --- erasure -----------------------------------------------------------------------------------


def erasure_due(now: datetime) -> Any:
    days = settings.GONGHAO_DEPARTED_PII_RETENTION_DAYS
    cutoff = timezone.localdate(now) - timedelta(days=days)
    return Employee.objects.filter(
        status=EmployeeStatus.DEPARTED,
        departure_date__lt=cutoff,
        personal_data_erased_at__isnull=True,
    )


def erase_departed_pii(now: datetime | None = None) -> dict[str, int]:
    """Erase the personal data of employees departed more than the retention period ago.

    Idempotent: an erased employee has `personal_data_erased_at` and is not picked again.
    The audit event names the erased fields and counts, never the values.
    """
    now = now or clock.now()
    erased = 0
    for pk in list(erasure_due(now).values_list("pk", flat=True)):
        with transaction.atomic():
            employee = Employee.objects.select_for_update().get(pk=pk)
            if employee.personal_data_erased_at is not None:
                continue
            _erase(employee, now)
            erased += 1
    return {"erased": erased}


def _erase(employee: Employee, now: datetime) -> None:
    from allauth.mfa.models import Authenticator

    fields = [name for name in ("phone", "email") if getattr(employee, name)]
    employee.phone = ""
    employee.email = ""
    employee.set_unusable_password()
    employee.personal_data_erased_at = now
    employee.save(update_fields=["phone", "email", "password", "personal_data_erased_at"])
    history = PasswordHistory.objects.filter(employee=employee).delete()[0]
    codes = PasswordResetCode.objects.filter(employee=employee).delete()[0]
    factors = Authenticator.objects.filter(user_id=employee.pk).delete()[0]
    messages = 0
    for message in Message.objects.filter(employee=employee):
        message.recipient = ERASED
        message.params = {}
        message.redacted = True
        if message.status == MessageStatus.QUEUED:
            message.status = MessageStatus.FAILED
            message.last_error = "recipient erased"
        message.body = REDACTED_SENT if message.status == MessageStatus.SENT else REDACTED_FAILED
        message.save(
            update_fields=["recipient", "params", "redacted", "status", "last_error", "body"]
        )
        messages += 1
    requests = EmployeeRequest.objects.filter(new_employee=employee).update(phone="", email="")
    record(
        audit_actions.PII_ERASE,
        actor=None,
        target=employee,
        params={
            "fields": ", ".join(fields) or "-",
            "departure_date": employee.departure_date.isoformat()
            if employee.departure_date
            else None,
            "retention_days": settings.GONGHAO_DEPARTED_PII_RETENTION_DAYS,
            "password_history": history,
            "reset_codes": codes,
            "second_factors": factors,
            "messages": messages,
            "onboarding_requests": requests,
        },
    )


# --- dormant accounts --------------------------------------------------------------------------


def dormant_candidates(now: datetime) -> Any:
    """Active employees whose last successful login and last activation (re-enabling counts)
    are both older than GONGHAO_DORMANT_DAYS; creation stands in for either when missing.

    Each side is coalesced first: SQLite's MAX() is NULL when any argument is.
    """
    cutoff = now - timedelta(days=settings.GONGHAO_DORMANT_DAYS)
    return (
        Employee.objects.filter(status=EmployeeStatus.ACTIVE)
        .annotate(
            seen=Greatest(
                Coalesce(F("last_login"), F("created_at")),
                Coalesce(F("activated_at"), F("created_at")),
            )
        )
        .filter(seen__lt=cutoff)
    )


def disable_dormant(now: datetime | None = None) -> dict[str, int]:
    """Disable dormant accounts, end their tokens, tell each one's manager. Idempotent: a
    disabled account is no longer active, so a second run finds nothing."""
    from gonghao.accounts.models import ApiToken
    from gonghao.accounts.reset import end_sessions

    now = now or clock.now()
    if settings.GONGHAO_DORMANT_DAYS <= 0:
        return {"disabled": 0, "managers_told": 0}
    disabled = told = 0
    for pk in list(dormant_candidates(now).values_list("pk", flat=True)):
        with transaction.atomic():
            employee = dormant_candidates(now).select_for_update().filter(pk=pk).first()
            if employee is None:
                continue
            days = (now - employee.seen).days
            employee.status = EmployeeStatus.DISABLED
            employee.save(update_fields=["status", "updated_at"])
            tokens = ApiToken.objects.filter(employee=employee, revoked_at__isnull=True).update(
                revoked_at=now
            )
            sessions = end_sessions(employee)
            access.forget_cached_permissions(employee)
            channel = _tell_manager(employee, days)
            record(
                audit_actions.DORMANT_DISABLE,
                actor=None,
                target=employee,
                params={
                    "days": days,
                    "threshold_days": settings.GONGHAO_DORMANT_DAYS,
                    "last_login": employee.last_login.isoformat() if employee.last_login else None,
                    "manager": employee.manager.employee_id if employee.manager_id else None,
                    "manager_told_by": channel or "",
                    "tokens_revoked": tokens,
                    "sessions_ended": sessions,
                },
                changes={"status": [EmployeeStatus.ACTIVE, EmployeeStatus.DISABLED]},
            )
            disabled += 1
            told += 1 if channel else 0
    return {"disabled": disabled, "managers_told": told}


def _tell_manager(employee: Employee, days: int) -> str | None:
    manager = employee.manager
    if manager is None or manager.status != EmployeeStatus.ACTIVE:
        return None
    if manager.email:
        channel, recipient = Channel.EMAIL, manager.email
    elif manager.phone:
        channel, recipient = Channel.SMS, str(manager.phone)
    else:
        return None
    queue_message(
        channel=channel,
        recipient=recipient,
        template=DORMANT_TEMPLATE,
        params={
            "manager_name": manager.name,
            "name": employee.name,
            "employee_id": employee.employee_id,
            "days": days,
        },
        employee=manager,
        actor=None,
    )
    return channel


def enable_employee(employee: Employee, *, actor: Any) -> Employee:
    """An administrator re-enables a disabled account (e.g. one the dormant job disabled).

    Dormancy counts again from now. Departed 工号 are never re-enabled: rehire instead.
    """
    access.require(actor, "employee.manage")
    if employee.pk == actor.pk:
        raise PermissionDenied(_("You cannot re-enable your own account."), code="enable_self")
    with transaction.atomic():
        employee = Employee.objects.select_for_update().get(pk=employee.pk)
        if employee.status != EmployeeStatus.DISABLED:
            raise Conflict(
                _("Only a disabled account can be re-enabled; this one is %(status)s.")
                % {"status": employee.get_status_display()},
                code="not_disabled",
            )
        employee.status = EmployeeStatus.ACTIVE
        employee.activated_at = clock.now()
        employee.save(update_fields=["status", "activated_at", "updated_at"])
        access.forget_cached_permissions(employee)
        record(
            audit_actions.ENABLE,
            actor=actor,
            target=employee,
            changes={"status": [EmployeeStatus.DISABLED, EmployeeStatus.ACTIVE]},
        )
    return employee
