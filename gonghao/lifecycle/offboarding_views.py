"""Web pages of offboarding: the form with a preview and a confirmation, the handover report
(also as CSV), cancelling a scheduled one, and re-enabling a disabled account."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gonghao.accounts import services as accounts
from gonghao.core.errors import GonghaoError, NotFound, ValidationFailed
from gonghao.core.views import (
    apply_field_errors,
    domain_errors_as_pages,
    paginate,
    permission_required,
)

from . import offboarding as service
from . import retention
from .models import OffboardingStatus
from .offboarding_forms import OffboardForm
from .permissions import OFFBOARD


def _employee(employee_id: str):
    try:
        return accounts.find_employee(employee_id)
    except accounts.InvalidEmployeeId:
        raise NotFound()


@permission_required(OFFBOARD)
@domain_errors_as_pages
def offboard(request: HttpRequest, employee_id: str):
    employee = _employee(employee_id)
    form = OffboardForm(request.POST or None)
    steps = None
    successor = None
    if request.method == "POST" and form.is_valid():
        try:
            successor = service.resolve_successor(form.cleaned_data["successor"])
            effective = form.cleaned_data["effective"]
            if request.POST.get("confirm") == "1":
                service.offboard_employee(
                    employee, actor=request.user, successor=successor, effective=effective
                )
                messages.success(
                    request,
                    _("The offboarding of %(id)s is recorded.") % {"id": employee.employee_id},
                )
                return redirect("employee_offboarding", employee_id=employee.employee_id)
            service.check_offboarding(
                employee, actor=request.user, successor=successor, effective=effective
            )
            steps = service.preview(employee, actor=request.user, successor=successor)
        except ValidationFailed as error:
            apply_field_errors(form, error)
            steps = None
        except GonghaoError as error:
            if error.status in (403, 404):
                raise
            form.add_error(None, str(error.message))
            steps = None
    return render(
        request,
        "lifecycle/offboard_form.html",
        {
            "subject": employee,
            "form": form,
            "steps": steps,
            "successor": successor,
            "total": sum(len(s.moves) for s in steps) if steps else 0,
        },
    )


@permission_required(OFFBOARD)
@domain_errors_as_pages
def report(request: HttpRequest, employee_id: str):
    employee = _employee(employee_id)
    found = service.get_offboarding_for(request.user, employee)
    return render(
        request,
        "lifecycle/offboarding_report.html",
        {
            "subject": employee,
            "offboarding": found,
            "items": paginate(request, service.report_items(found), per_page=100),
            "can_cancel": found.status == OffboardingStatus.SCHEDULED,
        },
    )


@permission_required(OFFBOARD)
@domain_errors_as_pages
def report_csv(request: HttpRequest, employee_id: str):
    employee = _employee(employee_id)
    found = service.get_offboarding_for(request.user, employee)
    response = HttpResponse(
        service.export_report_csv(found, actor=request.user), content_type="text/csv; charset=utf-8"
    )
    filename = f"handover-{employee.employee_id}-{found.effective:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@permission_required(OFFBOARD)
@require_POST
@domain_errors_as_pages
def cancel(request: HttpRequest, employee_id: str):
    employee = _employee(employee_id)
    found = service.get_offboarding_for(request.user, employee)
    try:
        service.cancel_offboarding(found, actor=request.user)
        messages.success(request, _("The scheduled offboarding was cancelled."))
    except GonghaoError as error:
        messages.error(request, str(error.message))
    return redirect("employee_offboarding", employee_id=employee.employee_id)


@permission_required("employee.manage")
@require_POST
@domain_errors_as_pages
def enable(request: HttpRequest, employee_id: str):
    employee = _employee(employee_id)
    try:
        retention.enable_employee(employee, actor=request.user)
        messages.success(request, _("The account was re-enabled."))
    except GonghaoError as error:
        if error.status == 403:
            raise
        messages.error(request, str(error.message))
    return redirect("employee_detail", employee_id=employee.employee_id)
