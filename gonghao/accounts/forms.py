"""Web forms of the accounts app."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField

from gonghao.org.models import Department, Position

from .models import TokenScope


class EmployeeForm(forms.Form):
    name = forms.CharField(label=_("Full name"), max_length=100)
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=Department.objects.filter(is_active=True), required=False
    )
    position = forms.ModelChoiceField(
        label=_("Position"), queryset=Position.objects.filter(is_active=True), required=False
    )
    manager = forms.CharField(label=_("Manager's 工号"), max_length=64, required=False)
    phone = PhoneNumberField(label=_("Phone"), required=False, region="CN")
    email = forms.EmailField(label=_("E-mail"), required=False)
    hire_date = forms.DateField(
        label=_("Hire date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    rehire_of = forms.CharField(
        label=_("Former 工号 (rehire)"),
        max_length=64,
        required=False,
        help_text=_("When this person worked here before: their old 工号, linked for reference."),
    )


class PersonalTokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    days = forms.IntegerField(label=_("Valid for (days)"), min_value=1, max_value=366, initial=30)
    scope = forms.ChoiceField(label=_("Scope"), choices=TokenScope.choices, initial=TokenScope.READ)
