"""The "forgot password" pages: ask for a code, then enter it with a new password."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gonghao.core.errors import ValidationFailed

from . import reset

SESSION_KEY = "gonghao_reset_identifier"


class ResetRequestForm(forms.Form):
    identifier = forms.CharField(
        label=gettext_lazy("Phone number or e-mail"),
        max_length=reset.MAX_IDENTIFIER,
        help_text=gettext_lazy("The phone number or e-mail address the company has on record."),
    )


class ResetConfirmForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=16,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
    new_password = forms.CharField(
        label=gettext_lazy("New password"),
        max_length=4096,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password2 = forms.CharField(
        label=gettext_lazy("New password (again)"),
        max_length=4096,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        first, second = data.get("new_password"), data.get("new_password2")
        if first and second and first != second:
            self.add_error("new_password2", _("The two passwords do not match."))
        return data


def password_reset_request(request: HttpRequest):
    if request.user.is_authenticated:
        return redirect("account_change_password")
    form = ResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        identifier = form.cleaned_data["identifier"]
        try:
            reset.request_reset(identifier)
        except reset.TooManyRequests as error:
            form.add_error(None, str(error.message))
        else:
            request.session[SESSION_KEY] = identifier
            messages.info(request, str(reset.REQUEST_ANSWER))
            return redirect("password_reset_confirm")
    return render(request, "account/password_reset.html", {"form": form})


def password_reset_confirm(request: HttpRequest):
    if request.user.is_authenticated:
        return redirect("account_change_password")
    identifier = request.session.get(SESSION_KEY)
    if not identifier:
        return redirect("password_reset_request")
    form = ResetConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            reset.confirm_reset(identifier, data["code"], data["new_password"])
        except ValidationFailed as error:
            for message in error.field_errors.get("new_password", []) or [str(error.message)]:
                form.add_error("new_password", message)
        except reset.InvalidResetCode as error:
            form.add_error("code", str(error.message))
        except reset.TooManyRequests as error:
            form.add_error(None, str(error.message))
        else:
            request.session.pop(SESSION_KEY, None)
            messages.success(
                request, _("Your password was changed. Log in with your 工号 and the new password.")
            )
            return redirect("account_login")
    return render(request, "account/password_reset_confirm.html", {"form": form})
