"""Helpers shared by the login, lockout, password, session and token tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.hashers import Argon2PasswordHasher
from django.test import Client

from gonghao.accounts import employee_ids
from gonghao.accounts.models import Employee
from gonghao.audit.models import AuditEvent
from gonghao.testing.kit import PASSWORD

TOKEN_URL = "/api/v1/auth/token"
PASSWORD_URL = "/api/v1/auth/password"
LOGIN_URL = "/accounts/login/"
CHANGE_URL = "/accounts/password/change/"

# A new password that passes every rule of both presets (4 classes, no pattern, not common).
NEW_PASSWORD = "Ginkgo-Lantern-7305?"

# A well-formed 工号 (correct check digit) that no test employee holds.
UNKNOWN_ID = employee_ids.format_number(987_654)


def api_login(
    employee_or_id: Employee | str,
    password: str = PASSWORD,
    *,
    client: Client | None = None,
    ip: str = "127.0.0.1",
    language: str = "en",
    **extra: Any,
):
    """POST /api/v1/auth/token; `extra` are WSGI environ entries (HTTP_USER_AGENT=…)."""
    employee_id = (
        employee_or_id.employee_id if isinstance(employee_or_id, Employee) else employee_or_id
    )
    return (client or Client()).post(
        TOKEN_URL,
        {"employee_id": employee_id, "password": password},
        content_type="application/json",
        headers={"Accept-Language": language},
        REMOTE_ADDR=ip,
        **extra,
    )


def change_password_api(employee: Employee, new_password: str, password: str = PASSWORD):
    return Client().post(
        PASSWORD_URL,
        {"employee_id": employee.employee_id, "password": password, "new_password": new_password},
        content_type="application/json",
        headers={"Accept-Language": "en"},
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept-Language": "en"}


def web_login(client: Client, employee_id: str, password: str = PASSWORD, **extra: Any):
    return client.post(
        LOGIN_URL,
        {"login": employee_id, "password": password},
        headers={"Accept-Language": "en"},
        **extra,
    )


def events(action: str, **filters: Any) -> list[AuditEvent]:
    """Audit events of one action, oldest first."""
    return list(AuditEvent.objects.filter(action=action, **filters).order_by("seq"))


def failure_reasons(employee_id: str | None = None) -> list[str]:
    queryset = AuditEvent.objects.filter(action="auth.login.failed").order_by("seq")
    if employee_id is not None:
        queryset = queryset.filter(target_label=employee_id)
    return [event.params.get("reason") for event in queryset]


def reload(employee: Employee) -> Employee:
    return Employee.objects.get(pk=employee.pk)


@dataclass
class HashCounter:
    """Counts Argon2 computations: `encode` (make_password) and `verify` (check_password)."""

    encode: int = 0
    verify: int = 0
    calls: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.encode + self.verify

    def reset(self) -> None:
        self.encode = self.verify = 0
        self.calls.clear()


def count_hashes(monkeypatch) -> HashCounter:
    counter = HashCounter()
    # Our hasher inherits both methods; Django verifies with whichever "argon2" hasher it
    # finds, so the base class is where every computation passes.
    original_encode = Argon2PasswordHasher.encode
    original_verify = Argon2PasswordHasher.verify

    def encode(self, password, salt):
        counter.encode += 1
        counter.calls.append("encode")
        return original_encode(self, password, salt)

    def verify(self, password, encoded):
        counter.verify += 1
        counter.calls.append("verify")
        return original_verify(self, password, encoded)

    monkeypatch.setattr(Argon2PasswordHasher, "encode", encode)
    monkeypatch.setattr(Argon2PasswordHasher, "verify", verify)
    return counter
