"""Session rules: throttled sliding expiry, absolute lifetime, and a forced password change
before anything else."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from gonghao.audit.services import record
from gonghao.core import clock, context

from . import audit_actions
from .signals import SESSION_STARTED_KEY

# Paths a session may reach while a password change is pending.
_ALLOWED_DURING_CHANGE = ("/accounts/password/change/", "/accounts/logout/", "/i18n/", "/static/")


class SlidingSessionExpiryMiddleware:
    """The sliding idle timeout without a write on every request: an unchanged session is
    saved (moving its end to GONGHAO_SESSION_IDLE from now) once more than
    GONGHAO_SESSION_REFRESH_SECONDS of its idle window has been used since it was last saved.

    Sits just inside Django's SessionMiddleware, which saves modified sessions on the way out.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if (
            session is not None
            and session.accessed
            and not session.modified
            and session.session_key
            and not session.is_empty()
        ):
            used = getattr(session, "idle_window_used", lambda: None)()
            if used is not None and used > settings.GONGHAO_SESSION_REFRESH_SECONDS:
                session.modified = True
        return response


class SessionLifetimeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            started = request.session.get(SESSION_STARTED_KEY)
            limit = settings.GONGHAO_SESSION_ABSOLUTE.total_seconds()
            if started is None or clock.now().timestamp() - started > limit:
                record(
                    audit_actions.SESSION_EXPIRED,
                    actor=user,
                    target=user,
                    params={"reason": "absolute_lifetime"},
                )
                logout(request)
                if not request.path.startswith("/api/"):
                    messages.info(
                        request,
                        _("Your session has ended. Please log in again."),
                    )
                    return redirect(f"{reverse('account_login')}?next={request.path}")
            else:
                context.set_actor(user)
        return self.get_response(request)


class PasswordChangeRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and user.must_change_password
            and not request.path.startswith("/api/")
            and not request.path.startswith(_ALLOWED_DURING_CHANGE)
        ):
            messages.warning(
                request,
                _("Please choose a new password before you continue."),
            )
            return redirect("account_change_password")
        return self.get_response(request)


# Paths an employee who must enrol a second factor may reach before doing so.
_ALLOWED_BEFORE_ENROLMENT = (
    "/accounts/2fa/",
    "/accounts/reauthenticate/",
    "/accounts/logout/",
    "/accounts/password/change/",
    "/i18n/",
    "/static/",
)


class SecondFactorRequiredMiddleware:
    """Send an employee who must have 2FA and has none to enrolment; the API refuses them in
    `core.api_support` (403 second_factor_enrollment_required)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from .second_factors import needs_enrolment

        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith("/api/")
            and not request.path.startswith(_ALLOWED_BEFORE_ENROLMENT)
            and needs_enrolment(user)
        ):
            messages.warning(
                request,
                _("Please set up two-factor authentication before you continue."),
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)


# How often a session's "last seen" and address are written (allauth would write each request).
_ACTIVITY_EVERY_SECONDS = 60
_ACTIVITY_KEY = "gonghao_activity_tracked_at"


class UserSessionActivityMiddleware:
    """allauth.usersessions' activity tracking (IP, user agent, last seen for "My security"),
    at most once a minute per session instead of a database write on every request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from allauth.usersessions.internal.usersessionkit import track_activity

        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if session is not None and session.session_key and user and user.is_authenticated:
            now = clock.now().timestamp()
            if now - session.get(_ACTIVITY_KEY, 0) >= _ACTIVITY_EVERY_SECONDS:
                track_activity(request, user=user, session=session)
                session[_ACTIVITY_KEY] = now
        return self.get_response(request)


class PreferredLanguageMiddleware:
    """Pages in the employee's preferred language, wherever they log in.

    After LocaleMiddleware and authentication: the language switcher's cookie still wins (it
    is the choice made in this browser, and it updates the preference too); the preference
    wins over the browser's Accept-Language.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and user.language
            and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES
        ):
            translation.activate(user.language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)
