"""allauth.mfa form overrides: the 2FA login page honours our 工号 lockout and accepts a
one-time login code sent by SMS or e-mail where those are allowed."""

from __future__ import annotations

from allauth.account.internal.flows.login import record_authentication
from allauth.core import context
from allauth.mfa.base.forms import AuthenticateForm
from django import forms

from . import login_codes
from .services import AccountLocked


class LockoutAwareAuthenticateForm(AuthenticateForm):
    """Refuse codes while the 工号 is locked, so the six digits cannot be guessed at leisure
    (our lockout replaces allauth's login-failure rate limit, which is off)."""

    login_code_used = False

    def clean_code(self) -> str:
        self.user.refresh_from_db(fields=["locked_until"])
        if self.user.is_temporarily_locked:
            raise forms.ValidationError(str(AccountLocked.default_message), code="account_locked")
        binding = login_codes.session_binding(context.request.session)
        if not login_codes.has_live_code(self.user, binding):
            return super().clean_code()
        code = self.cleaned_data.get("code", "")
        if login_codes.use_code(self.user, code, binding=binding, count_miss=False):
            self.login_code_used = True
            return code
        try:
            return super().clean_code()
        except forms.ValidationError:
            login_codes.count_miss_of(self.user, binding)
            raise

    def save(self) -> None:
        if self.login_code_used:
            record_authentication(context.request, self.user, "mfa", type="login_code")
            return
        super().save()
