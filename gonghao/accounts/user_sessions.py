"""Web sessions (allauth.usersessions) and login history: what "My security" shows, and the
administrator's view of any employee's sessions. Ending sessions is audited."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.db.models import DateTimeField, Exists, IntegerField, OuterRef, QuerySet

from gonghao.access import services as access
from gonghao.audit.models import AuditEvent
from gonghao.audit.services import record
from gonghao.core.errors import NotFound
from gonghao.core.prepared import Bound, PreparedQuery

from . import audit_actions
from .models import Employee

SESSION_MANAGE = "session.manage"

# Audit actions that make up an employee's login history.
LOGIN_HISTORY_ACTIONS = (
    audit_actions.LOGIN_SUCCEEDED,
    audit_actions.LOGIN_FAILED,
    audit_actions.MFA_FAILED,
    audit_actions.LOCKOUT,
    audit_actions.LOGIN_NOT_ALLOWED,
)

_BROWSERS = (
    ("Edg/", "Edge"),
    ("MicroMessenger", "WeChat"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
    ("curl/", "curl"),
    ("python-requests", "Python"),
)
_SYSTEMS = (
    ("Windows", "Windows"),
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def device_label(user_agent: str) -> str:
    """A short "browser · system" for a User-Agent header; "" when nothing is recognised."""
    user_agent = user_agent or ""
    browser = next((name for key, name in _BROWSERS if key in user_agent), "")
    system = next((name for key, name in _SYSTEMS if key in user_agent), "")
    label = " · ".join(part for part in (browser, system) if part)
    return label or re.sub(r"\s+", " ", user_agent)[:40]


def _may_manage(actor: Any, employee: Employee) -> bool:
    return actor.pk == employee.pk or access.has_permission(actor, SESSION_MANAGE)


def sessions_of(employee: Employee) -> list[Any]:
    """The employee's live sessions, most recently seen first (ended ones are purged)."""
    from allauth.usersessions.models import UserSession

    sessions = UserSession.objects.purge_and_list(employee)
    return sorted(sessions, key=lambda s: s.last_seen_at, reverse=True)


def track_new_session(request: Any, employee: Employee) -> None:
    """Record the session a web login opened, for "My security" and for ending it later.

    This is allauth.usersessions' `user_logged_in` receiver (disconnected in
    gonghao.accounts.apps) without its cost: allauth first re-checks every earlier session row
    of the employee one by one (three queries each: is it stored, load it, load its user), so
    each login was slower than the last. Here the rows whose stored session is gone or past its
    end go in one statement; `sessions_of` still checks the rest one by one whenever sessions
    are listed or ended. The login has just given the session a new random key, so its row is
    inserted directly (allauth looks for an existing row first, in two savepoints).
    """
    from allauth.account.adapter import get_adapter
    from allauth.usersessions.models import UserSession
    from django.utils import timezone

    session = request.session
    if not session.session_key:
        session.save()
    user_agent = request.META.get("HTTP_USER_AGENT", "")
    # Nested in the login's transaction, a failure here fails the whole login: no savepoint.
    with transaction.atomic(savepoint=False):
        ENDED_SESSIONS.delete(user_id=employee.pk, now=timezone.now())
        UserSession.objects.create(
            session_key=session.session_key,
            user=employee,
            ip=get_adapter().get_client_ip(request),
            user_agent=user_agent[: UserSession._meta.get_field("user_agent").max_length],
        )


def _build_ended_sessions() -> QuerySet:
    """The employee's session rows whose stored session has ended or is gone. Each row looks up
    its own session by key: `session_key IN (every live session)` read every live session of
    every employee on each login."""
    from allauth.usersessions.models import UserSession
    from django.contrib.sessions.models import Session

    live = Session.objects.filter(
        session_key=OuterRef("session_key"), expire_date__gt=Bound("now", DateTimeField())
    )
    return UserSession.objects.filter(user_id=Bound("user_id", IntegerField())).exclude(
        Exists(live)
    )


# Every web login purges them: compiled once per connection (core/prepared.py); building the
# ORM's delete of this query cost more than running it.
ENDED_SESSIONS = PreparedQuery(_build_ended_sessions)


def sessions_for(actor: Any, employee: Employee) -> list[Any]:
    """Permission-checked: one's own sessions, or anyone's with session.manage."""
    if not _may_manage(actor, employee):
        access.require(actor, SESSION_MANAGE)
    return sessions_of(employee)


def get_session_for(actor: Any, employee: Employee, session_id: int) -> Any:
    from allauth.usersessions.models import UserSession

    if not _may_manage(actor, employee):
        raise NotFound(code="session_not_found")
    found = UserSession.objects.filter(pk=session_id, user_id=employee.pk).first()
    if found is None:
        raise NotFound(code="session_not_found")
    return found


def end_sessions(
    employee: Employee, sessions: list[Any], *, actor: Any, reason: str = "signed_out"
) -> int:
    """End these sessions of `employee` (their stored session is deleted); audited. How many."""
    if actor.pk != employee.pk:
        access.require(actor, SESSION_MANAGE)
    sessions = [s for s in sessions if s.user_id == employee.pk]
    if not sessions:
        return 0
    with transaction.atomic():
        for session in sessions:
            session.end()
        record(
            audit_actions.SESSION_END,
            actor=actor,
            target=employee,
            params={
                "count": len(sessions),
                "reason": reason,
                "sessions": [f"{s.pk}@{s.ip}" for s in sessions],
            },
        )
    return len(sessions)


def end_other_sessions(employee: Employee, *, current_key: str | None, actor: Any) -> int:
    """Sign out everywhere except the session `current_key` (the one making the request)."""
    others = [s for s in sessions_of(employee) if s.session_key != current_key]
    return end_sessions(employee, others, actor=actor, reason="other_sessions")


def end_all_sessions(employee: Employee, *, actor: Any) -> int:
    return end_sessions(employee, sessions_of(employee), actor=actor, reason="all_sessions")


def login_history(employee: Employee) -> QuerySet[AuditEvent]:
    """Successful and refused logins of the employee, newest first (from the audit log)."""
    return AuditEvent.objects.filter(
        target_type="accounts.employee",
        target_id=str(employee.pk),
        action__in=LOGIN_HISTORY_ACTIONS,
    ).order_by("-seq")


def login_outcome(event: AuditEvent) -> str:
    return "success" if event.action == audit_actions.LOGIN_SUCCEEDED else "failure"


def login_reason(event: AuditEvent) -> str:
    if event.action == audit_actions.LOCKOUT:
        return "locked"
    return str((event.params or {}).get("reason", ""))
