"""Accounts API: tokens, password change, the caller's identity, employees."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Query, Router, Status

from gonghao.access import login_rules
from gonghao.access import services as access
from gonghao.access.catalogue import PERMISSIONS
from gonghao.access.models import Role, RoleGrant
from gonghao.core.api_support import (
    AUTH_ERRORS,
    READ_ERRORS,
    WRITE_ERRORS,
    ErrorOut,
    RecordId,
    paginate,
)
from gonghao.core.errors import NotFound, ValidationFailed

from . import login_codes, reset, services, stepup, user_sessions
from .models import ApiToken, Employee
from .schemas import (
    ApiTokenListOut,
    EmployeeCreatedOut,
    EmployeeIn,
    EmployeeListOut,
    EmployeeOut,
    EndedOut,
    GrantIn,
    GrantListOut,
    GrantOut,
    LoginCodeIn,
    LoginHistoryOut,
    MeOut,
    OkOut,
    PasswordChangeIn,
    PasswordResetConfirmIn,
    PasswordResetIn,
    PasswordResetOut,
    PermissionOut,
    PersonalTokenIn,
    PersonalTokenOut,
    PreferencesIn,
    PreferencesOut,
    ReauthenticateIn,
    ReauthenticateOut,
    RoleListOut,
    RoleOut,
    RolePatch,
    SessionListOut,
    TokenIn,
    TokenOut,
    WhoCanOut,
    WhyOut,
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
    raw, token = services.login_for_token(
        payload.employee_id, payload.password, name=payload.name, otp=payload.otp
    )
    return {"token": raw, "expires_at": token.expires_at}


@auth_router.post(
    "/token/otp-code",
    auth=None,
    response={200: PasswordResetOut, 400: ErrorOut, 422: ErrorOut},
    summary="Send a one-time login code by SMS or e-mail for the token endpoint's otp "
    "(where allowed)",
)
def request_login_code(request: HttpRequest, payload: LoginCodeIn):
    # The same answer whatever happens: nobody learns whether the password was right.
    login_codes.request_code_for_token(payload.employee_id, payload.password)
    return {"ok": True, "message": str(login_codes.SENT_ANSWER)}


@auth_router.post(
    "/password",
    auth=None,
    response={200: OkOut, **LOGIN_ERRORS},
    summary="Change a password with the current one (also when a change is required)",
)
def change_password(request: HttpRequest, payload: PasswordChangeIn):
    services.change_password_with_old(
        payload.employee_id, payload.password, payload.new_password, otp=payload.otp
    )
    return {"ok": True}


RESET_ERRORS = {400: ErrorOut, 422: ErrorOut, 429: ErrorOut}


@auth_router.post(
    "/password-reset",
    auth=None,
    response={200: PasswordResetOut, **RESET_ERRORS},
    summary="Forgot password: send a 6-digit code to a registered phone or e-mail",
)
def request_password_reset(request: HttpRequest, payload: PasswordResetIn):
    # The same answer whether or not the identifier belongs to an account.
    reset.request_reset(payload.identifier)
    return {"ok": True, "message": str(reset.REQUEST_ANSWER)}


@auth_router.post(
    "/password-reset/confirm",
    auth=None,
    response={200: OkOut, **RESET_ERRORS},
    summary="Forgot password: set a new password with the code; ends every session and token",
)
def confirm_password_reset(request: HttpRequest, payload: PasswordResetConfirmIn):
    reset.confirm_reset(payload.identifier, payload.code, payload.new_password)
    return {"ok": True}


@auth_router.post(
    "/logout",
    response={200: OkOut, **AUTH_ERRORS},
    summary="Log out: revoke the bearer token, or end the session, this request was made with",
)
def logout_token(request: HttpRequest):
    token = getattr(request, "api_token", None)
    if token is not None:
        services.revoke_token(token, actor=request.auth)
        services.record_logout(request.auth)
    else:
        from django.contrib.auth import logout

        logout(request)  # the session cookie's session; the logout signal audits it
    return {"ok": True}


@tokens_router.get(
    "", response={200: ApiTokenListOut, **AUTH_ERRORS, 422: ErrorOut}, summary="List my API tokens"
)
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
        request.auth,
        name=payload.name,
        ttl=timedelta(days=payload.days),
        scope=payload.scope,
        authenticated_at=stepup.last_authenticated_at(request),
    )
    return Status(201, {"token": raw, "details": token})


@tokens_router.delete(
    "/{token_id}", response={200: OkOut, **WRITE_ERRORS}, summary="Revoke an API token"
)
def revoke_token(request: HttpRequest, token_id: RecordId):
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
        "language": employee.language,
    }


def _preferences_out(employee: Employee) -> dict:
    return {
        "language": employee.language,
        "languages": [{"code": code, "name": name} for code, name in settings.LANGUAGES],
    }


@me_router.get(
    "/preferences",
    response={200: PreferencesOut, **AUTH_ERRORS},
    summary="My preferences: the language of my pages and of the messages sent to me",
)
def my_preferences(request: HttpRequest):
    return _preferences_out(request.auth)


@me_router.put(
    "/preferences",
    response={200: PreferencesOut, **WRITE_ERRORS},
    summary="Set my preferred language (\"\" for the default)",
)
def set_my_preferences(request: HttpRequest, payload: PreferencesIn):
    services.set_preferred_language(request.auth, payload.language)
    return _preferences_out(request.auth)


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
        "activated_at": employee.activated_at,
        "rehire_of": employee.rehire_of.employee_id if employee.rehire_of_id else None,
        "rehired_as": sorted(e.employee_id for e in employee.rehired_as.all()),
        "personal_data_erased_at": employee.personal_data_erased_at,
    }


@employees_router.get("", response={200: EmployeeListOut, **READ_ERRORS}, summary="List employees")
def list_employees(
    request: HttpRequest,
    q: str = Query("", max_length=100),
    department_id: RecordId | None = None,
    status: str | None = Query(None, max_length=16),
    limit: int = 50,
    offset: int = 0,
):
    access.require(request.auth, "employee.view")
    queryset = Employee.objects.select_related(
        "department", "position", "manager", "rehire_of"
    ).prefetch_related("rehired_as")
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
    rehire_of = None
    try:
        rehire_of = services.resolve_rehire_of(payload.rehire_of)
    except ValidationFailed as error:
        field_errors.update(error.field_errors)
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
        rehire_of=rehire_of,
    )
    return Status(201, {"employee_id": employee.employee_id, "initial_password": password})


@employees_router.post(
    "/{employee_id}/second-factors/reset",
    response={200: OkOut, **WRITE_ERRORS},
    summary="Reset an employee's second factors (TOTP, recovery codes, keys); they are told",
)
def reset_second_factors(request: HttpRequest, employee_id: str):
    access.require(request.auth, "mfa.reset")
    employee = services.find_employee(employee_id)
    services.reset_second_factors(employee, actor=request.auth)
    return {"ok": True}


# --- roles, grants and the "why" explainer ------------------------------------------------------

roles_router = Router()
access_router = Router()


def _role_out(role: Role) -> dict:
    return {
        "code": role.code,
        "name": str(role),
        "name_zh": role.name_zh,
        "name_en": role.name_en,
        "description": role.description,
        "permissions": sorted(role.permissions),
        "data_scope": role.data_scope,
        "hidden_fields": sorted(role.hidden_fields),
        "is_builtin": role.is_builtin,
        "grant_needs_approval": role.grant_needs_approval,
        "revoke_needs_approval": role.revoke_needs_approval,
        "allowed_networks": list(role.allowed_networks),
        "allowed_hours": login_rules.format_hours(role),
    }


def _grant_out(grant: RoleGrant) -> dict:
    return {
        "role": grant.role.code,
        "role_name": str(grant.role),
        "data_scope": grant.role.data_scope,
        "granted_by": grant.granted_by.employee_id if grant.granted_by_id else None,
        "granted_at": grant.granted_at,
        "expires_at": grant.expires_at,
        "revoked_at": grant.revoked_at,
        "in_force": grant.revoked_at is None and not grant.is_expired,
    }


@roles_router.get("", response={200: RoleListOut, **READ_ERRORS}, summary="List roles")
def list_roles(request: HttpRequest):
    access.require(request.auth, "role.view")
    roles = list(Role.objects.all())
    return {"items": [_role_out(r) for r in roles], "count": len(roles)}


@roles_router.get("/{code}", response={200: RoleOut, **READ_ERRORS}, summary="One role")
def get_role(request: HttpRequest, code: str):
    access.require(request.auth, "role.view")
    return _role_out(access.get_role(code))


@roles_router.patch(
    "/{code}",
    response={200: RoleOut, **WRITE_ERRORS},
    summary="Edit a role's names, permissions, data scope or hidden fields",
)
def update_role(request: HttpRequest, code: str, payload: RolePatch):
    access.require(request.auth, "role.manage")
    role = access.get_role(code)
    stepup.require_step_up(request, "role.update")
    fields = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    return _role_out(access.update_role(role, actor=request.auth, **fields))


@access_router.get(
    "/permissions",
    response={200: list[PermissionOut], **AUTH_ERRORS},
    summary="The permission catalogue",
)
def list_permissions(request: HttpRequest):
    return [
        {"code": p.code, "label": str(p.label)}
        for p in sorted(PERMISSIONS.values(), key=lambda p: p.code)
    ]


def _permission_param(code: str) -> str:
    if code not in PERMISSIONS:
        raise ValidationFailed(field_errors={"permission": [str(_("Unknown permission."))]})
    return code


@access_router.get(
    "/why",
    response={200: WhyOut, **READ_ERRORS},
    summary="Why can this 工号 do this? The grants that give the permission",
)
def why(
    request: HttpRequest,
    employee_id: str = Query(..., max_length=64),
    permission: str = Query(..., max_length=64),
):
    access.require(request.auth, "role.view")
    code = _permission_param(permission)
    employee = services.find_employee(employee_id)
    reasons = access.explain(employee, code)
    return {
        "employee_id": employee.employee_id,
        "permission": code,
        "allowed": bool(reasons),
        "because": [_grant_out(r.grant) for r in reasons],
    }


@access_router.get(
    "/who",
    response={200: WhoCanOut, **READ_ERRORS},
    summary="Who can do this? Every active employee holding the permission",
)
def who(request: HttpRequest, permission: str = Query(..., max_length=64)):
    access.require(request.auth, "role.view")
    code = _permission_param(permission)
    grants = access.who_can(code)
    items = [
        {"employee_id": g.employee.employee_id, "name": g.employee.name, "grant": _grant_out(g)}
        for g in grants
    ]
    return {"permission": code, "items": items, "count": len(items)}


@employees_router.get(
    "/{employee_id}/roles",
    response={200: GrantListOut, **READ_ERRORS},
    summary="An employee's role grants (in force and past)",
)
def list_grants(request: HttpRequest, employee_id: str):
    access.require(request.auth, "role.view")
    employee = services.find_employee(employee_id)
    grants = RoleGrant.objects.filter(employee=employee).select_related("role", "granted_by")
    items = [_grant_out(g) for g in grants]
    return {"items": items, "count": len(items)}


@employees_router.post(
    "/{employee_id}/roles",
    response={201: GrantOut, **WRITE_ERRORS},
    summary="Grant a role (optionally until a time); refused on SoD conflict",
)
def grant(request: HttpRequest, employee_id: str, payload: GrantIn):
    access.require(request.auth, "role.manage")
    employee = services.find_employee(employee_id)
    stepup.require_step_up(request, "role.grant")
    created = access.grant_role(
        employee, payload.role, actor=request.auth, expires_at=payload.expires_at
    )
    return Status(201, _grant_out(created))


@employees_router.delete(
    "/{employee_id}/roles/{code}", response={200: GrantOut, **WRITE_ERRORS}, summary="Revoke a role"
)
def revoke(request: HttpRequest, employee_id: str, code: str):
    access.require(request.auth, "role.manage")
    employee = services.find_employee(employee_id)
    stepup.require_step_up(request, "role.revoke")
    return _grant_out(access.revoke_role(employee, code, actor=request.auth))


# --- sessions, login history, step-up -----------------------------------------------------------


def _session_out(session, request: HttpRequest) -> dict:
    current_key = getattr(getattr(request, "session", None), "session_key", None)
    return {
        "id": session.pk,
        "ip": session.ip,
        "user_agent": session.user_agent,
        "device": user_sessions.device_label(session.user_agent),
        "created_at": session.created_at,
        "last_seen_at": session.last_seen_at,
        "current": bool(current_key) and session.session_key == current_key,
    }


def _login_event_out(event) -> dict:
    return {
        "occurred_at": event.occurred_at,
        "action": event.action,
        "outcome": user_sessions.login_outcome(event),
        "reason": user_sessions.login_reason(event),
        "client_ip": event.client_ip,
        "channel": event.channel,
        "user_agent": event.user_agent,
    }


@auth_router.post(
    "/reauthenticate",
    response={200: ReauthenticateOut, **LOGIN_ERRORS},
    summary="Step-up: confirm the password (and second factor) again for sensitive actions",
)
def reauthenticate(request: HttpRequest, payload: ReauthenticateIn):
    at = stepup.reauthenticate(request, password=payload.password, otp=payload.otp)
    return {"authenticated_at": at, "valid_until": at + stepup.max_age()}


@me_router.get(
    "/sessions",
    response={200: SessionListOut, **AUTH_ERRORS},
    summary="My active web sessions (device, IP, last seen)",
)
def my_sessions(request: HttpRequest):
    sessions = user_sessions.sessions_of(request.auth)
    return {"items": [_session_out(s, request) for s in sessions], "count": len(sessions)}


@me_router.delete(
    "/sessions/{session_id}",
    response={200: EndedOut, **WRITE_ERRORS},
    summary="Sign out one of my web sessions",
)
def end_my_session(request: HttpRequest, session_id: RecordId):
    session = user_sessions.get_session_for(request.auth, request.auth, session_id)
    return {"ended": user_sessions.end_sessions(request.auth, [session], actor=request.auth)}


@me_router.get(
    "/login-history",
    response={200: LoginHistoryOut, **AUTH_ERRORS, 422: ErrorOut},
    summary="My logins and refused logins (from the audit log), newest first",
)
def my_login_history(request: HttpRequest, limit: int = 50, offset: int = 0):
    items, count = paginate(user_sessions.login_history(request.auth), limit, offset)
    return {"items": [_login_event_out(e) for e in items], "count": count}


@employees_router.get(
    "/{employee_id}/sessions",
    response={200: SessionListOut, **READ_ERRORS},
    summary="An employee's active web sessions (session.manage)",
)
def employee_sessions(request: HttpRequest, employee_id: str):
    access.require(request.auth, user_sessions.SESSION_MANAGE)
    employee = services.find_employee(employee_id)
    sessions = user_sessions.sessions_for(request.auth, employee)
    return {"items": [_session_out(s, request) for s in sessions], "count": len(sessions)}


@employees_router.delete(
    "/{employee_id}/sessions",
    response={200: EndedOut, **WRITE_ERRORS},
    summary="End every web session of an employee (session.manage; audited)",
)
def end_employee_sessions(request: HttpRequest, employee_id: str):
    access.require(request.auth, user_sessions.SESSION_MANAGE)
    employee = services.find_employee(employee_id)
    return {"ended": user_sessions.end_all_sessions(employee, actor=request.auth)}


@employees_router.delete(
    "/{employee_id}/sessions/{session_id}",
    response={200: EndedOut, **WRITE_ERRORS},
    summary="End one web session of an employee (session.manage; audited)",
)
def end_employee_session(request: HttpRequest, employee_id: str, session_id: RecordId):
    access.require(request.auth, user_sessions.SESSION_MANAGE)
    employee = services.find_employee(employee_id)
    session = user_sessions.get_session_for(request.auth, employee, session_id)
    return {"ended": user_sessions.end_sessions(employee, [session], actor=request.auth)}


@employees_router.get(
    "/{employee_id}/tokens",
    response={200: ApiTokenListOut, **READ_ERRORS},
    summary="An employee's API tokens (token.manage)",
)
def employee_tokens(request: HttpRequest, employee_id: str, limit: int = 50, offset: int = 0):
    access.require(request.auth, "token.manage")
    employee = services.find_employee(employee_id)
    items, count = paginate(ApiToken.objects.filter(employee=employee), limit, offset)
    return {"items": items, "count": count}


@employees_router.post(
    "/{employee_id}/tokens/{token_id}/revoke",
    response={200: OkOut, **WRITE_ERRORS},
    summary="Revoke an employee's API token (token.manage; audited)",
)
def revoke_employee_token(request: HttpRequest, employee_id: str, token_id: RecordId):
    access.require(request.auth, "token.manage")
    employee = services.find_employee(employee_id)
    token = ApiToken.objects.select_related("employee").filter(pk=token_id, employee=employee)
    found = token.first()
    if found is None:
        raise NotFound(code="token_not_found")
    services.revoke_token(found, actor=request.auth)
    return {"ok": True}
