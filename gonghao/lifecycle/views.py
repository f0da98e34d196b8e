"""Web pages of onboarding requests: the queue, the request form, one request and its actions."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gonghao.access import services as access
from gonghao.core.errors import Conflict, GonghaoError, NotFound, ValidationFailed
from gonghao.core.views import (
    apply_field_errors,
    domain_errors_as_pages,
    paginate,
    querystring_without_page,
)

from . import services
from .forms import EmployeeRequestForm, ReasonForm
from .models import EmployeeRequest, RequestStatus
from .permissions import APPROVE, REQUEST

# Service field names → form field names, so errors land beside the right field.
_FIELD_NAMES = {"department_id": "department", "position_id": "position"}


def _fields_from(form: EmployeeRequestForm) -> services.RequestFields:
    data = form.cleaned_data
    fields = services.resolve_fields(
        manager=data["manager"] or None, rehire_of=data["rehire_of"] or None
    )
    fields.name = data["name"]
    fields.department = data["department"]
    fields.position = data["position"]
    fields.phone = str(data["phone"]) if data["phone"] else ""
    fields.email = data["email"]
    fields.roles = list(data["roles"])
    fields.start_date = data["start_date"]
    return fields


def _show_errors(form, error: GonghaoError) -> None:
    if isinstance(error, ValidationFailed):
        error.field_errors = {_FIELD_NAMES.get(k, k): v for k, v in error.field_errors.items()}
        apply_field_errors(form, error)
    else:
        form.add_error(None, str(error.message))


@login_required
@domain_errors_as_pages
def request_list(request: HttpRequest):
    status = request.GET.get("status", "")
    queryset = services.list_requests_for(
        request.user, status=status if status in RequestStatus.values else None
    )
    return render(
        request,
        "lifecycle/request_list.html",
        {
            "page": paginate(request, queryset),
            "status": status,
            "statuses": RequestStatus.choices,
            "querystring": querystring_without_page(request),
            "can_request": access.has_permission(request.user, REQUEST),
        },
    )


@login_required
@domain_errors_as_pages
def request_create(request: HttpRequest):
    access.require(request.user, REQUEST)
    form = EmployeeRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.file_request(actor=request.user, fields=_fields_from(form))
        except GonghaoError as error:
            _show_errors(form, error)
        else:
            messages.success(
                request,
                _("Request filed; the reserved 工号 is %(id)s.") % {"id": created.employee_id},
            )
            return redirect("employee_request_detail", request_id=created.pk)
    return render(request, "lifecycle/request_form.html", {"form": form, "editing": None})


@login_required
@domain_errors_as_pages
def request_edit(request: HttpRequest, request_id: int):
    found = services.get_request_for(request.user, request_id)
    try:
        services.require_editable(found, actor=request.user)
    except Conflict as error:
        messages.error(request, error.message)
        return redirect("employee_request_detail", request_id=found.pk)
    initial = {
        "name": found.name,
        "department": found.department,
        "position": found.position,
        "manager": found.manager.employee_id if found.manager_id else "",
        "phone": found.phone,
        "email": found.email,
        "roles": found.roles,
        "start_date": found.start_date,
        "rehire_of": found.rehire_of.employee_id if found.rehire_of_id else "",
    }
    form = EmployeeRequestForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_request(found, actor=request.user, fields=_fields_from(form))
        except GonghaoError as error:
            _show_errors(form, error)
        else:
            messages.success(request, _("The request was resubmitted."))
            return redirect("employee_request_detail", request_id=found.pk)
    return render(request, "lifecycle/request_form.html", {"form": form, "editing": found})


@login_required
@domain_errors_as_pages
def request_detail(request: HttpRequest, request_id: int):
    return _render_detail(request, services.get_request_for(request.user, request_id))


def _render_detail(
    request: HttpRequest,
    found: EmployeeRequest,
    approval: services.Approval | None = None,
    reason_form: ReasonForm | None = None,
) -> HttpResponse:
    can_decide = access.has_permission(request.user, APPROVE)
    is_requester = found.requested_by_id == request.user.pk
    return render(
        request,
        "lifecycle/request_detail.html",
        {
            "req": found,
            "approval": approval,
            "reason_form": reason_form or ReasonForm(),
            "can_decide": can_decide and found.status == RequestStatus.SUBMITTED,
            "can_reject": can_decide
            and found.status in (RequestStatus.SUBMITTED, RequestStatus.RETURNED),
            "can_edit": is_requester and found.status == RequestStatus.RETURNED,
            "can_withdraw": is_requester
            and found.status in (RequestStatus.SUBMITTED, RequestStatus.RETURNED),
        },
    )


@login_required
@require_POST
@domain_errors_as_pages
def request_action(request: HttpRequest, request_id: int, action: str):
    found = services.get_request_for(request.user, request_id)
    reason_form = ReasonForm(request.POST)
    try:
        if action == "approve":
            approval = services.approve_request(found, actor=request.user)
            # The one-time password is rendered in this answer only, never stored for later.
            return _render_detail(request, approval.request, approval=approval)
        if action == "withdraw":
            services.withdraw_request(found, actor=request.user)
        elif action in ("reject", "return"):
            if not reason_form.is_valid():
                return _render_detail(request, found, reason_form=reason_form)
            service = services.reject_request if action == "reject" else services.return_request
            service(found, actor=request.user, reason=reason_form.cleaned_data["reason"])
        else:
            return render(request, "404.html", status=404)
    except ValidationFailed as error:
        apply_field_errors(reason_form, error)
        return _render_detail(request, found, reason_form=reason_form)
    except GonghaoError as error:
        if isinstance(error, NotFound):
            raise
        messages.error(request, str(error.message))
    return redirect("employee_request_detail", request_id=request_id)
