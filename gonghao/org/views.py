"""Web pages for departments and positions: everyone reads, administrators add."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from gonghao.access.services import has_permission
from gonghao.accounts.services import find_employee
from gonghao.core.errors import GonghaoError, ValidationFailed
from gonghao.core.views import paginate, render_page

from . import services
from .forms import DepartmentForm, PositionForm
from .models import Department, Position


def _apply_errors(form, error: GonghaoError, field: str | None = None) -> None:
    """Put a service error beside the field it is about (`field` when the error has none)."""
    if isinstance(error, ValidationFailed) and error.field_errors:
        for name, errors in error.field_errors.items():
            for message in errors:
                form.add_error(name if name in form.fields else None, message)
    else:
        if field is None and error.code == "duplicate_code":
            field = "code"
        form.add_error(field, str(error.message))


@login_required
def department_list(request: HttpRequest):
    can_manage = has_permission(request.user, "org.manage")
    form = DepartmentForm(request.POST or None) if can_manage else None
    if request.method == "POST":
        if not can_manage:
            return redirect("department_list")
        if form.is_valid():
            data = form.cleaned_data
            try:
                head = find_employee(data["head"]) if data["head"] else None
            except GonghaoError as error:
                _apply_errors(form, error, field="head")
            else:
                try:
                    department = services.create_department(
                        actor=request.user,
                        code=data["code"],
                        name=data["name"],
                        parent=data["parent"],
                        head=head,
                    )
                    messages.success(
                        request, _("Department %(name)s created.") % {"name": department}
                    )
                    return redirect("department_list")
                except GonghaoError as error:
                    _apply_errors(form, error)
    departments = Department.objects.select_related("parent", "head").order_by("code")
    return render_page(
        request,
        "org/department_list.html",
        {"page": paginate(request, departments), "form": form, "can_manage": can_manage},
        fragment="org/_department_table.html",
    )


@login_required
def position_list(request: HttpRequest):
    can_manage = has_permission(request.user, "org.manage")
    form = PositionForm(request.POST or None) if can_manage else None
    if request.method == "POST":
        if not can_manage:
            return redirect("position_list")
        if form.is_valid():
            try:
                position = services.create_position(
                    actor=request.user,
                    code=form.cleaned_data["code"],
                    name=form.cleaned_data["name"],
                )
                messages.success(request, _("Position %(name)s created.") % {"name": position})
                return redirect("position_list")
            except GonghaoError as error:
                _apply_errors(form, error)
    positions = Position.objects.order_by("code")
    return render_page(
        request,
        "org/position_list.html",
        {"page": paginate(request, positions), "form": form, "can_manage": can_manage},
        fragment="org/_position_table.html",
    )
