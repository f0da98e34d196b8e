"""Audit web logins and logouts, and remember when a session started."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from gonghao.core import clock

from . import services

SESSION_STARTED_KEY = "gonghao_session_started"


@receiver(user_logged_in, dispatch_uid="gonghao_login_audit")
def on_logged_in(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_STARTED_KEY] = clock.now().timestamp()
    services.record_login(user, stamp_last_login=False)


@receiver(user_logged_out, dispatch_uid="gonghao_logout_audit")
def on_logged_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        services.record_logout(user)
