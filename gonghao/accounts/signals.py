"""Audit web logins, logouts and second-factor changes; remember when a session started.

allauth runs its 2FA stage before it logs the employee in, so `user_logged_in` (and our
`auth.login.succeeded`) only fires once the second factor has been passed.
"""

from __future__ import annotations

from typing import Any

from allauth.account.signals import authentication_step_completed
from allauth.mfa import signals as mfa_signals
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db import transaction
from django.dispatch import receiver

from gonghao.audit.services import record
from gonghao.core import clock

from . import audit_actions, services, stepup

SESSION_STARTED_KEY = "gonghao_session_started"


@receiver(user_logged_in, dispatch_uid="gonghao_login_audit")
def on_logged_in(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_STARTED_KEY] = clock.now().timestamp()
        stepup.mark_session_authenticated(request.session)
    services.record_login(user)  # Django's own last-login stamp is disconnected (apps.py)
    if user.failed_login_count or user.lockout_count or user.locked_until:
        services.clear_failures_after_second_factor(user)


@receiver(user_logged_out, dispatch_uid="gonghao_logout_audit")
def on_logged_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        services.record_logout(user)


@receiver(authentication_step_completed, dispatch_uid="gonghao_authentication_step")
def on_authentication_step(sender, request, user, method, **kwargs) -> None:
    """A password or second factor was checked (login or re-authentication): the step-up
    clock restarts. A re-authentication is audited."""
    if request is None or not hasattr(request, "session"):
        return
    stepup.mark_session_authenticated(request.session)
    if kwargs.get("reauthenticated"):
        with transaction.atomic():
            record(
                audit_actions.REAUTHENTICATED, actor=user, target=user, params={"method": method}
            )


# --- second factors (allauth.mfa) ---------------------------------------------------------------


def _record_mfa(action: str, user: Any, authenticator: Any) -> None:
    with transaction.atomic():
        record(action, actor=user, target=user, params={"type": authenticator.type})


@receiver(mfa_signals.authenticator_added, dispatch_uid="gonghao_mfa_added")
def on_authenticator_added(sender, request, user, authenticator, **kwargs) -> None:
    if authenticator.type == "recovery_codes":
        _record_mfa(audit_actions.MFA_RECOVERY_CODES_GENERATED, user, authenticator)
    else:
        _record_mfa(audit_actions.MFA_ACTIVATED, user, authenticator)


@receiver(mfa_signals.authenticator_removed, dispatch_uid="gonghao_mfa_removed")
def on_authenticator_removed(sender, request, user, authenticator, **kwargs) -> None:
    _record_mfa(audit_actions.MFA_DEACTIVATED, user, authenticator)


@receiver(mfa_signals.authenticator_reset, dispatch_uid="gonghao_mfa_reset")
def on_authenticator_reset(sender, request, user, authenticator, **kwargs) -> None:
    _record_mfa(audit_actions.MFA_RECOVERY_CODES_GENERATED, user, authenticator)


@receiver(mfa_signals.authentication_failed, dispatch_uid="gonghao_mfa_failed")
def on_authentication_failed(sender, request, user, authenticator, **kwargs) -> None:
    services.register_wrong_second_factor(user)
