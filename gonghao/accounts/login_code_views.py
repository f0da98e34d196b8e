"""The 2FA login page's "send me a code instead" (SMS or e-mail one-time login code)."""

from __future__ import annotations

from allauth.account.internal.decorators import login_stage_required
from allauth.mfa.stages import AuthenticateStage
from django.contrib import messages
from django.http import HttpRequest
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from . import login_codes


@require_POST
@login_stage_required(stage=AuthenticateStage.key, redirect_urlname="account_login")
def send_login_code(request: HttpRequest):
    user = request._login_stage.login.user
    login_codes.send_code(user, binding=login_codes.session_binding(request.session))
    messages.info(request, str(login_codes.WEB_ANSWER))
    return redirect("mfa_authenticate")
