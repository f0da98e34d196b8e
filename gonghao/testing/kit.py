"""Building blocks for tests: employees with known passwords, logged-in clients, the clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from django.contrib.auth.hashers import make_password
from django.test import Client

from gonghao.access.builtin import ensure_builtin_roles
from gonghao.access.services import grant_role
from gonghao.accounts.models import Employee, EmployeeStatus
from gonghao.accounts.services import allocate_employee_id
from gonghao.core import clock
from gonghao.org.models import Department, Position

PASSWORD = "Kunlun-Teapot-4821!"


@lru_cache(maxsize=1)
def _password_hash() -> str:
    # One Argon2 hash for the whole run: tests create many employees.
    return make_password(PASSWORD)


def make_employee(
    name: str = "测试员工",
    *,
    roles: tuple[str, ...] = (),
    department: Department | None = None,
    position: Position | None = None,
    manager: Employee | None = None,
    status: str = EmployeeStatus.ACTIVE,
    must_change_password: bool = False,
    **fields: Any,
) -> Employee:
    """An employee with a real 工号 from the allocator and the password `PASSWORD`."""
    entry = allocate_employee_id(actor=None, purpose="test")
    employee = Employee.objects.create(
        employee_id=entry.employee_id,
        name=name,
        department=department,
        position=position,
        manager=manager,
        status=status,
        password=_password_hash(),
        must_change_password=must_change_password,
        password_changed_at=clock.now(),
        **fields,
    )
    entry.holder = employee
    entry.state = "assigned"
    entry.save(update_fields=["holder", "state"])
    if roles:
        ensure_builtin_roles()
        for role in roles:
            grant_role(employee, role, actor=None, check_permission=False)
    return employee


@dataclass
class Cast:
    """Two departments and one employee per built-in duty."""

    sales_dept: Department
    service_dept: Department
    admin: Employee
    security_admin: Employee
    auditor: Employee
    employee: Employee


def make_cast() -> Cast:
    ensure_builtin_roles()
    sales = Department.objects.create(code="SALES", name="销售部")
    service = Department.objects.create(code="SERVICE", name="客服部")
    return Cast(
        sales_dept=sales,
        service_dept=service,
        admin=make_employee("王管理", roles=("system_admin",)),
        security_admin=make_employee("李安全", roles=("security_admin",)),
        auditor=make_employee("赵审计", roles=("auditor",)),
        employee=make_employee("张三", department=sales),
    )


def token_for(employee: Employee, client: Client | None = None) -> str:
    client = client or Client()
    response = client.post(
        "/api/v1/auth/token",
        {"employee_id": employee.employee_id, "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()["token"]


class ApiClient:
    """A JSON client that sends a bearer token and a language."""

    def __init__(self, token: str | None = None, language: str = "en") -> None:
        self.client = Client()
        self.headers: dict[str, str] = {"Accept-Language": language}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def _call(self, method: str, path: str, data: Any = None, **extra: Any):
        kwargs: dict[str, Any] = {"headers": self.headers | extra.pop("headers", {})}
        if data is not None:
            kwargs["data"] = data
            if method != "get":
                kwargs["content_type"] = "application/json"
        return getattr(self.client, method)(path, **kwargs, **extra)

    def get(self, path: str, params: dict | None = None, **extra: Any):
        return self._call("get", path, params, **extra)

    def post(self, path: str, data: Any = None, **extra: Any):
        return self._call("post", path, data if data is not None else {}, **extra)

    def patch(self, path: str, data: Any = None, **extra: Any):
        return self._call("patch", path, data if data is not None else {}, **extra)

    def put(self, path: str, data: Any = None, **extra: Any):
        return self._call("put", path, data if data is not None else {}, **extra)

    def delete(self, path: str, **extra: Any):
        return self._call("delete", path, **extra)


def api_as(employee: Employee, language: str = "en") -> ApiClient:
    return ApiClient(token_for(employee), language=language)


class MovableClock:
    """Replaces `gonghao.core.clock.now`; `advance()` moves time forward without sleeping."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current


def api_for(employee: Employee, language: str = "en") -> ApiClient:
    """A client with a token issued directly (no password check): for matrix-sized suites."""
    from gonghao.accounts.services import issue_token

    raw, _token = issue_token(employee, name="test")
    return ApiClient(raw, language=language)


def authenticate_freshly(client: ApiClient | Client) -> None:
    """Step-up: mark the client's token (ApiClient) or session (Client) as having just passed a
    password check, e.g. after a test moved the clock past GONGHAO_STEP_UP_MINUTES."""
    from gonghao.accounts.models import ApiToken
    from gonghao.accounts.services import hash_token
    from gonghao.accounts.stepup import mark_session_authenticated

    if isinstance(client, ApiClient):
        raw = client.headers["Authorization"].removeprefix("Bearer ")
        ApiToken.objects.filter(token_hash=hash_token(raw)).update(authenticated_at=clock.now())
        return
    session = client.session
    mark_session_authenticated(session)
    session.save()
