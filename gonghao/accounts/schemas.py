"""Request and response bodies of the accounts API."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Field, Schema

from gonghao.core.api_support import IsoDate, IsoDateTime, RecordId

from .models import TokenScope


class TokenIn(Schema):
    employee_id: str = Field(..., min_length=1, max_length=64)
    password: str = Field(..., min_length=1, max_length=4096)
    name: str = Field("login", max_length=100)
    otp: str | None = Field(
        None,
        max_length=64,
        description="a code from the authenticator app, a recovery code, or a one-time login code "
        "sent by POST /auth/token/otp-code, when 2FA is on",
    )


class TokenOut(Schema):
    token: str
    expires_at: datetime


class PasswordChangeIn(Schema):
    employee_id: str = Field(..., min_length=1, max_length=64)
    password: str = Field(..., min_length=1, max_length=4096)
    new_password: str = Field(..., min_length=1, max_length=4096)
    otp: str | None = Field(None, max_length=64, description="the second factor, when 2FA is on")


class OkOut(Schema):
    ok: bool = True


class NamedRef(Schema):
    id: int
    code: str
    name: str


class RoleRef(Schema):
    code: str
    name: str
    data_scope: str


class MeOut(Schema):
    employee_id: str
    name: str
    department: NamedRef | None
    position: NamedRef | None
    status: str
    roles: list[RoleRef]
    permissions: list[str]
    must_change_password: bool
    password_expires_at: datetime | None
    last_login: datetime | None
    language: str


class EmployeeOut(Schema):
    employee_id: str
    name: str
    department: NamedRef | None
    position: NamedRef | None
    manager: str | None
    status: str
    hire_date: date | None
    departure_date: date | None
    last_login: datetime | None
    last_failed_login_at: datetime | None
    password_changed_at: datetime | None
    locked_until: datetime | None
    activated_at: datetime | None = None
    rehire_of: str | None = Field(None, description="the former 工号 of a rehired employee")
    rehired_as: list[str] = Field(default_factory=list, description="later 工号 of this person")
    personal_data_erased_at: datetime | None = None


class EmployeeListOut(Schema):
    items: list[EmployeeOut]
    count: int


class EmployeeIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    department_id: RecordId | None = None
    position_id: RecordId | None = None
    manager: str | None = Field(None, max_length=64, description="the manager's 工号")
    phone: str = Field("", max_length=32)
    email: str = Field("", max_length=254)
    hire_date: IsoDate | None = None
    rehire_of: str | None = Field(
        None, max_length=64, description="the former 工号 when rehiring someone who left"
    )


class EmployeeCreatedOut(Schema):
    employee_id: str
    initial_password: str


class PersonalTokenIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    days: int = Field(30, ge=1, le=366)
    scope: TokenScope = TokenScope.READ


class ApiTokenOut(Schema):
    id: int
    name: str
    prefix: str
    scope: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiTokenListOut(Schema):
    items: list[ApiTokenOut]
    count: int


class PersonalTokenOut(Schema):
    token: str
    details: ApiTokenOut


class PermissionOut(Schema):
    code: str
    label: str


class RoleOut(Schema):
    code: str
    name: str
    name_zh: str
    name_en: str
    description: str
    permissions: list[str]
    data_scope: str
    hidden_fields: list[str]
    is_builtin: bool
    grant_needs_approval: bool
    revoke_needs_approval: bool
    allowed_networks: list[str]
    allowed_hours: str = Field(description='"HH:MM-HH:MM" (company time zone) or "" for any')


class RoleListOut(Schema):
    items: list[RoleOut]
    count: int


class RolePatch(Schema):
    name_zh: str | None = Field(None, max_length=100)
    name_en: str | None = Field(None, max_length=100)
    permissions: list[str] | None = None
    data_scope: str | None = Field(None, max_length=20)
    hidden_fields: list[str] | None = None
    grant_needs_approval: bool | None = None
    revoke_needs_approval: bool | None = None
    allowed_networks: list[str] | None = Field(
        None, max_length=100, description="CIDR ranges, IPv4 or IPv6; [] for no restriction"
    )
    allowed_hours: str | None = Field(
        None, max_length=20, description='"HH:MM-HH:MM" (may pass midnight); "" for any time'
    )


class GrantIn(Schema):
    role: str = Field(..., min_length=1, max_length=50)
    expires_at: IsoDateTime | None = None


class GrantOut(Schema):
    role: str
    role_name: str
    data_scope: str
    granted_by: str | None
    granted_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    in_force: bool


class GrantListOut(Schema):
    items: list[GrantOut]
    count: int


class WhyOut(Schema):
    employee_id: str
    permission: str
    allowed: bool
    because: list[GrantOut]


class WhoCanItem(Schema):
    employee_id: str
    name: str
    grant: GrantOut


class WhoCanOut(Schema):
    permission: str
    items: list[WhoCanItem]
    count: int


class PasswordResetIn(Schema):
    identifier: str = Field(..., min_length=1, max_length=254, description="phone or e-mail")


class PasswordResetOut(Schema):
    ok: bool = True
    message: str


class PasswordResetConfirmIn(Schema):
    identifier: str = Field(..., min_length=1, max_length=254, description="phone or e-mail")
    code: str = Field(..., min_length=1, max_length=16)
    new_password: str = Field(..., min_length=1, max_length=4096)


class SessionOut(Schema):
    id: int
    ip: str
    user_agent: str
    device: str
    created_at: datetime
    last_seen_at: datetime
    current: bool


class SessionListOut(Schema):
    items: list[SessionOut]
    count: int


class EndedOut(Schema):
    ended: int


class LoginEventOut(Schema):
    occurred_at: datetime
    action: str
    outcome: str
    reason: str
    client_ip: str | None
    channel: str
    user_agent: str


class LoginHistoryOut(Schema):
    items: list[LoginEventOut]
    count: int


class LanguageOption(Schema):
    code: str
    name: str


class PreferencesOut(Schema):
    language: str = Field(..., description='Preferred language code; "" for the default')
    languages: list[LanguageOption]


class PreferencesIn(Schema):
    language: str = Field(
        ..., max_length=16, description='One of the `languages` codes, or "" for the default'
    )


class ReauthenticateIn(Schema):
    password: str = Field(..., min_length=1, max_length=4096)
    otp: str | None = Field(None, max_length=64, description="TOTP or recovery code, with 2FA")


class ReauthenticateOut(Schema):
    authenticated_at: datetime
    valid_until: datetime


class LoginCodeIn(Schema):
    employee_id: str = Field(..., min_length=1, max_length=64)
    password: str = Field(..., min_length=1, max_length=4096)
