"""Web pages of the accounts app: home, my API tokens, employees."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import i18n as i18n_views
from django.views.decorators.http import require_POST

from gonghao.access import services as access
from gonghao.core import home as home_page
from gonghao.core.errors import GonghaoError, NotFound, ValidationFailed
from gonghao.core.views import paginate, permission_required, querystring_without_page

from . import services, stepup
from .forms import EmployeeForm, PersonalTokenForm
from .models import ApiToken, Employee, EmployeeStatus


@login_required
def home(request: HttpRequest):
    employee = request.user
    expires = services.password_expires_at(employee)
    warning = None
    if expires is not None:
        from gonghao.accounts import policy
        from gonghao.core import clock

        if expires - clock.now() <= timedelta(days=policy.current().expiry_warning_days):
            warning = expires
    return render(
        request,
        "accounts/home.html",
        {
            "employee": employee,
            "roles": access.roles_of(employee),
            "permissions": sorted(access.permissions_of(employee)),
            "password_expires_at": expires,
            "password_expiry_warning": warning,
            "home_sections": home_page.sections_for(request),
        },
    )


@require_POST
def set_language(request: HttpRequest):
    """Django's language switcher; for an employee, the choice also becomes their preference,
    so it follows them to other browsers and into the messages sent to them."""
    response = i18n_views.set_language(request)
    language = request.POST.get(i18n_views.LANGUAGE_QUERY_PARAMETER, "")
    if request.user.is_authenticated and language in services.language_codes():
        services.set_preferred_language(request.user, language)
    return response


@login_required
def my_tokens(request: HttpRequest):
    new_token = None
    if request.method == "POST":
        form = PersonalTokenForm(request.POST)
        if form.is_valid():
            new_token, _token = services.issue_token(
                request.user,
                name=form.cleaned_data["name"],
                ttl=timedelta(days=form.cleaned_data["days"]),
                scope=form.cleaned_data["scope"],
                authenticated_at=stepup.last_authenticated_at(request),
            )
            form = PersonalTokenForm()
    else:
        form = PersonalTokenForm()
    tokens = ApiToken.objects.filter(employee=request.user)
    return render(
        request,
        "accounts/tokens.html",
        {"form": form, "tokens": paginate(request, tokens), "new_token": new_token},
    )


@login_required
@require_POST
def revoke_my_token(request: HttpRequest, token_id: int):
    try:
        token = services.get_token_for(request.user, token_id)
        services.revoke_token(token, actor=request.user)
        messages.success(request, _("The token was revoked."))
    except NotFound:
        messages.error(request, _("No such token."))
    return redirect("my_tokens")


@permission_required("employee.view")
def employee_list(request: HttpRequest):
    queryset = Employee.objects.select_related("department", "position").order_by("employee_id")
    q = request.GET.get("q", "").strip()[:100]
    status = request.GET.get("status", "")
    if q:
        queryset = queryset.filter(Q(employee_id__icontains=q) | Q(name__icontains=q))
    if status in EmployeeStatus.values:
        queryset = queryset.filter(status=status)
    return render(
        request,
        "accounts/employee_list.html",
        {
            "page": paginate(request, queryset),
            "q": q,
            "status": status,
            "statuses": EmployeeStatus.choices,
            "querystring": querystring_without_page(request),
            "can_manage": access.has_permission(request.user, "employee.manage"),
        },
    )


@permission_required("employee.view")
def employee_detail(request: HttpRequest, employee_id: str):
    try:
        employee = services.find_employee(employee_id)
    except GonghaoError:
        return render(request, "404.html", status=404)
    from .second_factors import has_any_authenticator

    return render(
        request,
        "accounts/employee_detail.html",
        {
            "subject": employee,
            "roles": access.roles_of(employee),
            "has_second_factor": has_any_authenticator(employee),
            "can_reset_second_factors": access.has_permission(request.user, "mfa.reset"),
        },
    )


@permission_required("mfa.reset")
@require_POST
def employee_reset_second_factors(request: HttpRequest, employee_id: str):
    try:
        employee = services.find_employee(employee_id)
    except GonghaoError:
        return render(request, "404.html", status=404)
    if services.reset_second_factors(employee, actor=request.user):
        messages.success(request, _("The second factors were reset; the employee was told."))
    else:
        messages.info(request, _("This employee has no second factor."))
    return redirect("employee_detail", employee_id=employee.employee_id)


@permission_required("employee.manage")
def employee_create(request: HttpRequest):
    created = None
    if request.method == "POST":
        form = EmployeeForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                manager = services.find_employee(data["manager"]) if data["manager"] else None
                rehire_of = services.resolve_rehire_of(data["rehire_of"])
                employee, password = services.create_employee(
                    actor=request.user,
                    name=data["name"],
                    department=data["department"],
                    position=data["position"],
                    manager=manager,
                    phone=data["phone"] or "",
                    email=data["email"],
                    hire_date=data["hire_date"],
                    rehire_of=rehire_of,
                )
                created = {"employee": employee, "password": password}
                form = EmployeeForm()
            except ValidationFailed as error:
                for field, errors in error.field_errors.items():
                    for message in errors:
                        form.add_error(field if field in form.fields else None, message)
            except GonghaoError as error:
                form.add_error("manager", str(error.message))
    else:
        form = EmployeeForm()
    return render(request, "accounts/employee_form.html", {"form": form, "created": created})
