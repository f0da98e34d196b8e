"""Web form of an offboarding."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class OffboardForm(forms.Form):
    successor = forms.CharField(
        label=_("Successor's 工号"),
        max_length=64,
        required=False,
        help_text=_("Leave empty to send the customers to the public pool."),
    )
    effective = forms.DateField(
        label=_("Effective date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty: today, at once. A later date: done by the scheduler on that day."),
    )
