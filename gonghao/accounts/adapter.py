"""allauth adapter: our lockout-aware authentication, closed signup, audited password changes."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django import forms
from django.db import transaction
from django.shortcuts import resolve_url

from gonghao.core.errors import GonghaoError

from . import services, user_sessions


class EmployeeAccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        # Accounts come from administrators and onboarding requests, never self-service.
        return False

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        # One rule for every sensitive action (gonghao.accounts.stepup): a password or second-
        # factor check newer than GONGHAO_STEP_UP_MINUTES counts, the login itself included, so
        # an administrator sent to enrol a second factor right after logging in is not asked
        # for the password a second time.
        from allauth.core import context as allauth_context

        from .stepup import is_recent

        if not super().is_reauthentication_required(app=app, **kwargs):
            return False
        request = allauth_context.request
        return request is None or not is_recent(request)

    def authenticate(self, request, **credentials):
        try:
            return services.authenticate_employee(
                credentials.get("username", ""), credentials.get("password", "")
            )
        except GonghaoError as error:
            raise forms.ValidationError(str(error.message), code=error.code)

    def set_password(self, user, password: str) -> None:
        services.set_password(user, password, actor=user)

    def login(self, request, user) -> None:
        # Runs after every stage (password, second factor): per-role IP ranges and hours.
        from allauth.core.exceptions import ImmediateHttpResponse
        from django.contrib import messages
        from django.shortcuts import redirect

        try:
            services.enforce_login_rules(user)
        except GonghaoError as error:
            messages.error(request, str(error.message))
            raise ImmediateHttpResponse(redirect("account_login"))
        # One commit for the login: Django's user_logged_in (signals.on_logged_in: last login
        # and its audit event), the session itself (written here, not by SessionMiddleware on
        # the way out: on PostgreSQL each commit waits for the disk) and the session's row for
        # "My security". The last stands in for allauth.usersessions' receiver of allauth's
        # user_logged_in (disconnected in apps.py), which allauth sends right after this
        # method, in a transaction of its own.
        with transaction.atomic():
            super().login(request, user)
            self._set_session_expiry(request)
            request.session.write_now()
            user_sessions.track_new_session(request, user)

    @staticmethod
    def _set_session_expiry(request) -> None:
        """The expiry allauth's login form gives the session once the login is done, given
        now, so that the session written with the login is its final state and is not written
        a second time (when the employee chooses, the form's choice is written after)."""
        from allauth.account import app_settings as account_settings

        remember = account_settings.SESSION_REMEMBER
        if remember is not None:
            request.session.set_expiry(account_settings.SESSION_COOKIE_AGE if remember else 0)

    def get_client_ip(self, request) -> str:
        # The address our request middleware resolved (GONGHAO_TRUSTED_PROXY_COUNT), so the
        # sessions list and the audit log agree.
        from gonghao.core import context

        return context.current().client_ip or super().get_client_ip(request)

    def get_password_change_redirect_url(self, request) -> str:
        return resolve_url("home")
