"""The audit page's filter form."""

from django import forms
from django.utils.translation import gettext_lazy as _


class AuditFilterForm(forms.Form):
    employee_id = forms.CharField(label=_("工号"), max_length=64, required=False)
    action = forms.CharField(
        label=_("Action"),
        max_length=64,
        required=False,
        help_text=_("An action code, or a prefix such as auth.*"),
    )
    target_type = forms.CharField(label=_("Target type"), max_length=64, required=False)
    target_id = forms.CharField(label=_("Target id"), max_length=64, required=False)
    since = forms.DateTimeField(
        label=_("From"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    until = forms.DateTimeField(
        label=_("Until"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
