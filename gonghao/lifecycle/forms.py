"""Web forms of onboarding requests."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField

from gonghao.access.models import Role
from gonghao.org.models import Department, Position

from .constants import MAX_REASON


class EmployeeRequestForm(forms.Form):
    name = forms.CharField(label=_("Full name"), max_length=100)
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=Department.objects.filter(is_active=True)
    )
    position = forms.ModelChoiceField(
        label=_("Position"), queryset=Position.objects.filter(is_active=True), required=False
    )
    manager = forms.CharField(label=_("Manager's 工号"), max_length=64, required=False)
    phone = PhoneNumberField(label=_("Phone"), required=False, region="CN")
    email = forms.EmailField(label=_("E-mail"), required=False)
    roles = forms.MultipleChoiceField(
        label=_("Requested roles"), required=False, widget=forms.CheckboxSelectMultiple
    )
    start_date = forms.DateField(
        label=_("Start date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    rehire_of = forms.CharField(
        label=_("Former 工号 (rehire)"),
        max_length=64,
        required=False,
        help_text=_("When this person worked here before: their old 工号, linked for reference."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["roles"].choices = [(r.code, str(r)) for r in Role.objects.all()]


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=MAX_REASON, widget=forms.Textarea(attrs={"rows": 2})
    )
