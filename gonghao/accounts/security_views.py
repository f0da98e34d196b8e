"""Pages of "My security" (own sessions, login history, tokens, second factors) and the
administrator's view of one employee's sessions and API tokens."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gonghao.access import services as access
from gonghao.core.errors import GonghaoError, NotFound
from gonghao.core.views import domain_errors_as_pages, paginate

from . import services, user_sessions
from .models import ApiToken, Employee


def _session_rows(request: HttpRequest, employee: Employee) -> list[dict]:
    current = request.session.session_key
    return [
        {
            "session": s,
            "device": user_sessions.device_label(s.user_agent),
            "current": s.session_key == current,
        }
        for s in user_sessions.sessions_of(employee)
    ]


def _history_rows(page) -> list[dict]:
    return [
        {
            "event": e,
            "success": user_sessions.login_outcome(e) == "success",
            "reason": user_sessions.login_reason(e),
        }
        for e in page
    ]


@login_required
def my_security(request: HttpRequest):
    from allauth.mfa.models import Authenticator

    employee = request.user
    history = paginate(request, user_sessions.login_history(employee))
    tokens = ApiToken.objects.filter(employee=employee)
    usable = [t for t in tokens.filter(revoked_at__isnull=True) if t.is_usable]
    return render(
        request,
        "accounts/my_security.html",
        {
            "sessions": _session_rows(request, employee),
            "history": history,
            "history_rows": _history_rows(history),
            "usable_tokens": usable,
            "authenticator_types": sorted(
                {a.get_type_display() for a in Authenticator.objects.filter(user_id=employee.pk)}
            ),
        },
    )


@login_required
@require_POST
def end_my_session(request: HttpRequest, session_id: int):
    try:
        session = user_sessions.get_session_for(request.user, request.user, session_id)
    except NotFound:
        messages.error(request, _("No such session."))
        return redirect("my_security")
    if session.session_key == request.session.session_key:
        messages.info(request, _("To end this session, log out."))
        return redirect("my_security")
    user_sessions.end_sessions(request.user, [session], actor=request.user)
    messages.success(request, _("The session was signed out."))
    return redirect("my_security")


@login_required
@require_POST
def end_my_other_sessions(request: HttpRequest):
    ended = user_sessions.end_other_sessions(
        request.user, current_key=request.session.session_key, actor=request.user
    )
    messages.success(request, _("%(count)s other session(s) signed out.") % {"count": ended})
    return redirect("my_security")


def _may_see(actor) -> tuple[bool, bool]:
    return (
        access.has_permission(actor, user_sessions.SESSION_MANAGE),
        access.has_permission(actor, "token.manage"),
    )


@login_required
@domain_errors_as_pages
def employee_security(request: HttpRequest, employee_id: str):
    can_sessions, can_tokens = _may_see(request.user)
    if not (can_sessions or can_tokens):
        return render(request, "403.html", status=403)
    try:
        employee = services.find_employee(employee_id)
    except GonghaoError:
        return render(request, "404.html", status=404)
    tokens = ApiToken.objects.filter(employee=employee) if can_tokens else ApiToken.objects.none()
    return render(
        request,
        "accounts/employee_security.html",
        {
            "subject": employee,
            "can_sessions": can_sessions,
            "can_tokens": can_tokens,
            "sessions": _session_rows(request, employee) if can_sessions else [],
            "tokens": paginate(request, tokens),
        },
    )


@login_required
@require_POST
@domain_errors_as_pages
def employee_end_sessions(request: HttpRequest, employee_id: str):
    employee = services.find_employee(employee_id)
    session_id = request.POST.get("session", "")
    if session_id.isdigit():
        session = user_sessions.get_session_for(request.user, employee, int(session_id))
        ended = user_sessions.end_sessions(employee, [session], actor=request.user)
    else:
        ended = user_sessions.end_all_sessions(employee, actor=request.user)
    messages.success(request, _("%(count)s session(s) ended.") % {"count": ended})
    return redirect("employee_security", employee.employee_id)


@login_required
@require_POST
@domain_errors_as_pages
def employee_revoke_token(request: HttpRequest, employee_id: str, token_id: int):
    access.require(request.user, "token.manage")
    employee = services.find_employee(employee_id)
    token = ApiToken.objects.filter(pk=token_id, employee=employee).first()
    if token is None:
        raise NotFound(code="token_not_found")
    services.revoke_token(token, actor=request.user)
    messages.success(request, _("The token was revoked."))
    return redirect("employee_security", employee.employee_id)
