"""Pages for roles and grants: the permission matrix, role editing, granting, and "why"."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from gonghao.access import login_rules
from gonghao.access import services as access
from gonghao.access.catalogue import sorted_hideable_fields, sorted_permissions
from gonghao.access.models import DataScope, Role, RoleGrant
from gonghao.core.errors import GonghaoError
from gonghao.core.views import apply_field_errors, domain_errors_as_pages, permission_required

from . import services
from .stepup import step_up_required


class RoleForm(forms.Form):
    name_zh = forms.CharField(label=gettext_lazy("Name (Chinese)"), max_length=100)
    name_en = forms.CharField(label=gettext_lazy("Name (English)"), max_length=100)
    data_scope = forms.ChoiceField(label=gettext_lazy("Data scope"), choices=DataScope.choices)
    permissions = forms.MultipleChoiceField(
        label=gettext_lazy("Permissions"), required=False, widget=forms.CheckboxSelectMultiple
    )
    hidden_fields = forms.MultipleChoiceField(
        label=gettext_lazy("Hidden fields"), required=False, widget=forms.CheckboxSelectMultiple
    )
    grant_needs_approval = forms.BooleanField(
        label=gettext_lazy("Granting this role needs a second person's approval"), required=False
    )
    revoke_needs_approval = forms.BooleanField(
        label=gettext_lazy("Revoking this role needs a second person's approval"), required=False
    )
    allowed_networks = forms.CharField(
        label=gettext_lazy("Login allowed from (IP ranges)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control font-monospace"}),
        help_text=gettext_lazy(
            "CIDR ranges, IPv4 or IPv6, one per line (e.g. 10.0.0.0/8). Empty: anywhere."
        ),
    )
    allowed_hours = forms.CharField(
        label=gettext_lazy("Login allowed during"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"class": "form-control", "placeholder": "08:00-20:00"}),
        help_text=gettext_lazy(
            "HH:MM-HH:MM in the company time zone, may pass midnight (22:00-06:00). "
            "Empty: any time. An employee may log in when any of their roles allows it."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["permissions"].choices = [
            (p.code, f"{p.code} · {p.label}") for p in sorted_permissions()
        ]
        self.fields["hidden_fields"].choices = [
            (f.code, f"{f.code} · {f.label}") for f in sorted_hideable_fields()
        ]


class GrantForm(forms.Form):
    role = forms.ModelChoiceField(
        label=gettext_lazy("Role"), queryset=Role.objects.all(), to_field_name="code"
    )
    expires_at = forms.DateTimeField(
        label=gettext_lazy("Until (optional)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )


class WhyForm(forms.Form):
    employee_id = forms.CharField(label=gettext_lazy("工号"), max_length=64)
    permission = forms.ChoiceField(label=gettext_lazy("Permission"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["permission"].choices = [
            (p.code, f"{p.code} · {p.label}") for p in sorted_permissions()
        ]


@permission_required("role.view")
def role_matrix(request: HttpRequest):
    roles = list(Role.objects.all())
    rows = [
        {"permission": p, "cells": [p.code in role.permissions for role in roles]}
        for p in sorted_permissions()
    ]
    return render(
        request,
        "accounts/role_matrix.html",
        {
            "roles": roles,
            "rows": rows,
            "can_manage": access.has_permission(request.user, "role.manage"),
        },
    )


@permission_required("role.manage")
@domain_errors_as_pages
@step_up_required("role.update", permission="role.manage")
def role_edit(request: HttpRequest, code: str):
    role = access.get_role(code)
    initial = {
        "name_zh": role.name_zh,
        "name_en": role.name_en,
        "data_scope": role.data_scope,
        "permissions": role.permissions,
        "hidden_fields": role.hidden_fields,
        "grant_needs_approval": role.grant_needs_approval,
        "revoke_needs_approval": role.revoke_needs_approval,
        "allowed_networks": "\n".join(role.allowed_networks),
        "allowed_hours": login_rules.format_hours(role),
    }
    form = RoleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            access.update_role(role, actor=request.user, **form.cleaned_data)
            messages.success(request, _("Role saved."))
            return redirect("role_matrix")
        except GonghaoError as error:
            apply_field_errors(form, error)
    return render(request, "accounts/role_form.html", {"role": role, "form": form})


@permission_required("role.view")
@domain_errors_as_pages
@step_up_required("role.grant", permission="role.manage")
def employee_grants(request: HttpRequest, employee_id: str):
    employee = services.find_employee(employee_id)
    can_manage = access.has_permission(request.user, "role.manage")
    form = GrantForm(request.POST or None) if can_manage else None
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            access.grant_role(
                employee,
                form.cleaned_data["role"].code,
                actor=request.user,
                expires_at=form.cleaned_data["expires_at"],
            )
            messages.success(request, _("Role granted."))
            return redirect("employee_grants", employee.employee_id)
        except GonghaoError as error:
            apply_field_errors(form, error)
    grants = RoleGrant.objects.filter(employee=employee).select_related(
        "role", "granted_by", "revoked_by"
    )
    return render(
        request,
        "accounts/employee_grants.html",
        {"subject": employee, "grants": grants, "form": form, "can_manage": can_manage},
    )


@permission_required("role.manage")
@require_POST
@domain_errors_as_pages
@step_up_required("role.revoke", permission="role.manage")
def employee_revoke(request: HttpRequest, employee_id: str, code: str):
    employee = services.find_employee(employee_id)
    access.revoke_role(employee, code, actor=request.user)
    messages.success(request, _("Role revoked."))
    return redirect("employee_grants", employee.employee_id)


@permission_required("role.view")
def why(request: HttpRequest):
    form = WhyForm(request.GET or None)
    answer = None
    who = None
    if form.is_valid():
        code = form.cleaned_data["permission"]
        try:
            employee = services.find_employee(form.cleaned_data["employee_id"])
            answer = {
                "employee": employee,
                "permission": code,
                "reasons": access.explain(employee, code),
            }
        except GonghaoError as error:
            form.add_error("employee_id", str(error.message))
        who = access.who_can(code)
    return render(request, "accounts/why.html", {"form": form, "answer": answer, "who": who})
