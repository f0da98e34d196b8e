"""allauth.mfa form overrides: the 2FA login page honours our 工号 lockout."""

from __future__ import annotations

from allauth.mfa.base.forms import AuthenticateForm
from django import forms

from .services import AccountLocked


class LockoutAwareAuthenticateForm(AuthenticateForm):
    """Refuse codes while the 工号 is locked, so the six digits cannot be guessed at leisure
    (our lockout replaces allauth's login-failure rate limit, which is off)."""

    def clean_code(self) -> str:
        self.user.refresh_from_db(fields=["locked_until"])
        if self.user.is_temporarily_locked:
            raise forms.ValidationError(str(AccountLocked.default_message), code="account_locked")
        return super().clean_code()
