"""Step-up re-authentication: sensitive actions need a recent password or second-factor check.

One helper for every caller. Pages use `step_up_required(...)` (the employee is sent through
allauth's re-authentication page and back); API endpoints call `require_step_up(request, ...)`,
which raises 403 `reauthentication_required`; `POST /api/v1/auth/reauthenticate` refreshes a
token. The last check is kept per session (`SESSION_KEY`, set at login and re-authentication)
and per API token (`ApiToken.authenticated_at`). Refusals are audited (auth.step_up.refused).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext_lazy as _

from gonghao.access import services as access
from gonghao.audit.services import record
from gonghao.core import clock
from gonghao.core.errors import GonghaoError

from . import audit_actions

SESSION_KEY = "gonghao_authenticated_at"


class ReauthenticationRequired(GonghaoError):
    code = "reauthentication_required"
    status = 403
    default_message = _(
        "For this action, confirm your password or second factor again "
        "(your last check is too old)."
    )


def max_age() -> timedelta:
    return timedelta(minutes=settings.GONGHAO_STEP_UP_MINUTES)


def mark_session_authenticated(session: Any) -> None:
    """The employee has just passed a password or second-factor check in this session."""
    session[SESSION_KEY] = clock.now().timestamp()


def last_authenticated_at(request: HttpRequest) -> datetime | None:
    """When the token (API) or session (pages, session API calls) last passed a check."""
    token = getattr(request, "api_token", None)
    if token is not None:
        return token.authenticated_at
    session = getattr(request, "session", None)
    stamp = session.get(SESSION_KEY) if session is not None else None
    return datetime.fromtimestamp(stamp, tz=UTC) if stamp else None


def is_recent(request: HttpRequest) -> bool:
    at = last_authenticated_at(request)
    return at is not None and clock.now() - at < max_age()


def require_step_up(
    request: HttpRequest,
    action: str,
    *,
    permission: str | None = None,
    target: Any = None,
) -> None:
    """Raise ReauthenticationRequired (audited) unless the last check is recent.

    `action` names what was asked for (an audit action code, e.g. "customer.reveal").
    With `permission`, an employee who lacks it is let through here so that the service
    refuses with its own answer: re-authenticating would not help them.
    """
    actor = request.user
    if permission is not None and not access.has_permission(actor, permission):
        return
    if is_recent(request):
        return
    minutes = settings.GONGHAO_STEP_UP_MINUTES
    with transaction.atomic():
        record(
            audit_actions.STEP_UP_REFUSED,
            actor=actor,
            target=target,
            target_type="" if target is not None else "accounts.employee",
            target_id="" if target is not None else actor.pk,
            target_label="" if target is not None else str(actor),
            params={"action": action, "max_age_minutes": minutes},
        )
    raise ReauthenticationRequired(details={"action": action, "max_age_minutes": minutes})


def _on_post(request: HttpRequest) -> bool:
    return request.method == "POST"


def step_up_required(
    action: str,
    *,
    permission: str | None = None,
    when: Callable[[HttpRequest], bool] = _on_post,
):
    """View decorator: when `when(request)` holds (default: a POST) and the last check is
    older than GONGHAO_STEP_UP_MINUTES, send the employee to allauth's re-authentication page;
    the suspended POST is replayed, or the GET reopened, once they have confirmed."""

    def decorator(view):
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            if request.user.is_authenticated and when(request):
                try:
                    require_step_up(request, action, permission=permission)
                except ReauthenticationRequired as error:
                    return reauthentication_response(request, error)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def reauthentication_response(request: HttpRequest, error: GonghaoError) -> HttpResponse:
    from allauth.account.internal.flows.reauthentication import suspend_request
    from django_htmx.http import HttpResponseClientRedirect

    messages.info(request, str(error.message))
    reauthenticate = reverse("account_reauthenticate")
    if getattr(request, "htmx", False):
        # A fragment request: come back to the page it was made from, not to the fragment.
        back = request.htmx.current_url_abs_path or reverse("home")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts=None):
            back = reverse("home")
        return HttpResponseClientRedirect(f"{reauthenticate}?{urlencode({'next': back})}")
    return suspend_request(request, reauthenticate)


# --- the API's re-authentication ----------------------------------------------------------------


def reauthenticate(request: HttpRequest, *, password: str, otp: str | None) -> datetime:
    """Check the caller's password (and second factor when they have one) again; refresh the
    token's (or session's) authentication time. Failures count towards the lockout."""
    from . import second_factors, services
    from .models import ApiToken

    employee = request.user
    try:
        services.authenticate_with_second_factor(employee.employee_id, password, otp)
    except (
        services.InvalidCredentials,
        second_factors.SecondFactorRequired,
        second_factors.InvalidSecondFactor,
    ) as error:
        # The caller is logged in: a 401 would read as "your token is no longer valid".
        error.status = 403
        raise
    now = clock.now()
    token = getattr(request, "api_token", None)
    with transaction.atomic():
        if token is not None:
            ApiToken.objects.filter(pk=token.pk).update(authenticated_at=now)
            token.authenticated_at = now
        else:
            mark_session_authenticated(request.session)
        record(
            audit_actions.REAUTHENTICATED,
            actor=employee,
            target=employee,
            params={
                "method": "password+otp"
                if second_factors.has_any_authenticator(employee)
                else "password"
            },
        )
    return now
