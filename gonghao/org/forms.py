"""Web forms of the organisation app."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Department


class DepartmentForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=32)
    name = forms.CharField(label=_("Name"), max_length=100)
    parent = forms.ModelChoiceField(
        label=_("Parent department"), queryset=Department.objects.all(), required=False
    )
    head = forms.CharField(label=_("Head's 工号"), max_length=64, required=False)


class PositionForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=32)
    name = forms.CharField(label=_("Name"), max_length=100)
