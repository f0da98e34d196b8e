"""Accounts API: tokens, password change, the caller's identity, employees."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.http import HttpRequest
from ninja import Query, Router

from gonghao.access import services as access
from gonghao.core.api_support import (
    AUTH_ERRORS,
    READ_ERRORS,
    WRITE_ERRORS,
    ErrorOut,
    paginate,
)
from gonghao.core.errors import NotFound, ValidationFailed

from . import services
from .models import ApiToken, Employee
from .schemas import (
    ApiTokenListOut,
    EmployeeCreatedOut,
    EmployeeIn,
    EmployeeListOut,
    EmployeeOut,
    MeOut,
    OkOut,
    PasswordChangeIn,
    PersonalTokenIn,
    PersonalTokenOut,
    TokenIn,
    TokenOut,
)

auth_router = Router()
tokens_router = Router()
me_router = Router()
employees_router = Router()

LOGIN_ERRORS = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    422: ErrorOut,
    423: ErrorOut,
    429: ErrorOut,
}


@auth_router.post(
    "/token",
    auth=None,
    response={200: TokenOut, **LOGIN_ERRORS},
    summary="Log in with 工号 and password; get a bearer token",
)
def create_token(request: HttpRequest, payload: TokenIn):
    raw, token = services.login_for_token(payload.employee_id, payload.password, name=payload.name)
    return {"token": raw, "expires_at": token.expires_at}


@auth_router.post(
    "/password",
    auth=None,
    response={200: OkOut, **LOGIN_ERRORS},
    summary="Change a password with the current one (also when a change is required)",
)
def change_password(request: HttpRequest, payload: PasswordChangeIn):
    services.change_password_with_old(payload.employee_id, payload.password, payload.new_password)
    return {"ok": True}


@auth_router.post(
    "/logout",
    response={200: OkOut, **AUTH_ERRORS},
    summary="Revoke the bearer token this request was made with",
)
def logout_token(request: HttpRequest):
    token = getattr(request, "api_token", None)
    if token is not None:
        services.revoke_token(token, actor=request.auth)
        services.record_logout(request.auth)
    return {"ok": True}


@tokens_router.get("", response={200: ApiTokenListOut, **AUTH_ERRORS}, summary="List my API tokens")
def list_tokens(request: HttpRequest, limit: int = 50, offset: int = 0):
    items, count = paginate(ApiToken.objects.filter(employee=request.auth), limit, offset)
    return {"items": items, "count": count}


@tokens_router.post(
    "",
    response={201: PersonalTokenOut, **WRITE_ERRORS},
    summary="Create a personal API token (shown once)",
)
def create_personal_token(request: HttpRequest, payload: PersonalTokenIn):
    raw, token = services.issue_token(
        request.auth, name=payload.name, ttl=timedelta(days=payload.days), scope=payload.scope
    )
    return 201, {"token": raw, "details": token}


@tokens_router.delete(
    "/{token_id}", response={200: OkOut, **WRITE_ERRORS}, summary="Revoke an API token"
)
def revoke_token(request: HttpRequest, token_id: int):
    token = services.get_token_for(request.auth, token_id)
    services.revoke_token(token, actor=request.auth)
    return {"ok": True}


def _ref(obj):
    return {"id": obj.pk, "code": obj.code, "name": obj.name} if obj is not None else None


@me_router.get(
    "",
    response={200: MeOut, **AUTH_ERRORS},
    summary="Who am I: 工号, department, roles, effective permissions",
)
def me(request: HttpRequest):
    employee: Employee = request.auth
    roles = access.roles_of(employee)
    return {
        "employee_id": employee.employee_id,
        "name": employee.name,
        "department": _ref(employee.department),
        "position": _ref(employee.position),
        "status": employee.status,
        "roles": [{"code": r.code, "name": str(r), "data_scope": r.data_scope} for r in roles],
        "permissions": sorted(access.permissions_of(employee)),
        "must_change_password": employee.must_change_password,
        "password_expires_at": services.password_expires_at(employee),
        "last_login": employee.last_login,
    }


def _employee_out(employee: Employee) -> dict:
    return {
        "employee_id": employee.employee_id,
        "name": employee.name,
        "department": _ref(employee.department),
        "position": _ref(employee.position),
        "manager": employee.manager.employee_id if employee.manager_id else None,
        "status": employee.status,
        "hire_date": employee.hire_date,
        "departure_date": employee.departure_date,
        "last_login": employee.last_login,
        "last_failed_login_at": employee.last_failed_login_at,
        "password_changed_at": employee.password_changed_at,
        "locked_until": employee.locked_until,
    }


@employees_router.get("", response={200: EmployeeListOut, **READ_ERRORS}, summary="List employees")
def list_employees(
    request: HttpRequest,
    q: str = Query("", max_length=100),
    department_id: int | None = None,
    status: str | None = Query(None, max_length=16),
    limit: int = 50,
    offset: int = 0,
):
    access.require(request.auth, "employee.view")
    queryset = Employee.objects.select_related("department", "position", "manager")
    if q:
        queryset = queryset.filter(Q(employee_id__icontains=q) | Q(name__icontains=q))
    if department_id is not None:
        queryset = queryset.filter(department_id=department_id)
    if status:
        queryset = queryset.filter(status=status)
    items, count = paginate(queryset.order_by("employee_id"), limit, offset)
    return {"items": [_employee_out(e) for e in items], "count": count}


@employees_router.get(
    "/{employee_id}", response={200: EmployeeOut, **READ_ERRORS}, summary="One employee by 工号"
)
def get_employee(request: HttpRequest, employee_id: str):
    access.require(request.auth, "employee.view")
    return _employee_out(services.find_employee(employee_id))


@employees_router.post(
    "",
    response={201: EmployeeCreatedOut, **WRITE_ERRORS},
    summary="Create an employee; returns the new 工号 and a one-time password",
)
def create_employee(request: HttpRequest, payload: EmployeeIn):
    from gonghao.org.models import Department, Position

    access.require(request.auth, "employee.manage")
    field_errors: dict[str, list[str]] = {}
    department = position = manager = None
    if payload.department_id is not None:
        department = Department.objects.filter(pk=payload.department_id).first()
        if department is None:
            field_errors["department_id"] = [str(NotFound.default_message)]
    if payload.position_id is not None:
        position = Position.objects.filter(pk=payload.position_id).first()
        if position is None:
            field_errors["position_id"] = [str(NotFound.default_message)]
    if payload.manager:
        try:
            manager = services.find_employee(payload.manager)
        except (services.InvalidEmployeeId, NotFound) as error:
            field_errors["manager"] = [str(error.message)]
    if field_errors:
        raise ValidationFailed(field_errors=field_errors)
    employee, password = services.create_employee(
        actor=request.auth,
        name=payload.name,
        department=department,
        position=position,
        manager=manager,
        phone=payload.phone,
        email=payload.email,
        hire_date=payload.hire_date,
    )
    return 201, {"employee_id": employee.employee_id, "initial_password": password}
