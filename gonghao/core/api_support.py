"""Shared API plumbing: authentication, the error schema, pagination."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Schema
from ninja.security import HttpBearer, SessionAuth
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ModelWrapValidatorHandler,
    ValidationInfo,
    model_validator,
)

from gonghao.core import context
from gonghao.core.pagination import capped_count

MAX_PAGE = 200

# A database row id: bounded so a 20-digit number is a 422, not an overflow in the database.
RecordId = Annotated[int, Field(ge=1, le=2**63 - 1)]


_NUMBER = re.compile(r"\s*[-+]?\d+(\.\d*)?([eE][-+]?\d+)?\s*")


def _iso_text_only(value: Any) -> Any:
    """pydantic reads 1058 as a Unix time; the API documents ISO 8601 text and means it."""
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise ValueError("Use an ISO 8601 date or time (2026-12-01, 2026-12-01T09:00:00+08:00).")
    return value


def _in_utc(value: datetime) -> datetime:
    """Aware times go to the database in UTC: PostgreSQL refuses offsets past ±15:59, which
    ISO 8601 text may carry (…+16:49); one that cannot be moved to UTC is out of range."""
    if value.tzinfo is None:
        return value
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValueError("The date and time is out of range.") from None


# Dates and times in requests: ISO 8601 text only, as the OpenAPI document says.
IsoDate = Annotated[date, BeforeValidator(_iso_text_only)]
IsoDateTime = Annotated[datetime, BeforeValidator(_iso_text_only), AfterValidator(_in_utc)]


class ErrorOut(Schema):
    code: str
    message: str
    details: dict[str, Any] | None = None


# Every authenticated operation can answer these; declared so the OpenAPI document says so.
AUTH_ERRORS = {401: ErrorOut, 403: ErrorOut}
READ_ERRORS = {**AUTH_ERRORS, 400: ErrorOut, 404: ErrorOut, 422: ErrorOut}
WRITE_ERRORS = {**AUTH_ERRORS, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def _accept(request: HttpRequest, employee: Any) -> Any:
    from gonghao.accounts.second_factors import SecondFactorEnrollmentRequired, needs_enrolment
    from gonghao.accounts.services import PasswordChangeRequired

    if employee.must_change_password:
        raise PasswordChangeRequired()
    if needs_enrolment(employee):
        raise SecondFactorEnrollmentRequired()
    context.set_actor(employee)
    request.user = employee
    return employee


class TokenAuth(HttpBearer):
    """`Authorization: Bearer ghk_…` personal or login tokens."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        from gonghao.accounts.models import TokenScope
        from gonghao.accounts.services import token_owner
        from gonghao.core.errors import PermissionDenied

        found = token_owner(token)
        if found is None:
            return None
        employee, api_token = found
        if not employee.is_active:
            return None
        if api_token.scope == TokenScope.READ and request.method not in SAFE_METHODS:
            raise PermissionDenied(code="token_read_only")
        request.api_token = api_token
        return _accept(request, employee)


class EmployeeSessionAuth(SessionAuth):
    """The browser's session cookie, with CSRF on unsafe methods."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user is None:
            return None
        return _accept(request, user)


API_AUTH = [TokenAuth(), EmployeeSessionAuth()]


class BodySchema(Schema):
    """A response body that endpoints build as plain dicts (lists of many rows).

    ninja wraps every object it validates in a getter that resolves each field through Django
    (managers, callables, files); for a page of 50 rows that costs more than the query. A dict
    needs none of it and goes to pydantic as it is; anything else is validated as by ninja.
    """

    @model_validator(mode="wrap")
    @classmethod
    def _run_root_validator(
        cls, values: Any, handler: ModelWrapValidatorHandler[Any], info: ValidationInfo
    ) -> Any:
        if isinstance(values, dict):
            return handler(values)
        return Schema._run_root_validator.__func__(cls, values, handler, info)


class Page(Schema):
    count: int


MAX_OFFSET = 10**9


def paginate(queryset, limit: int, offset: int) -> tuple[list[Any], int]:
    limit = max(1, min(limit, MAX_PAGE))
    offset = max(0, min(offset, MAX_OFFSET))
    return list(queryset[offset : offset + limit]), queryset.count()


def paginate_capped(queryset, limit: int, offset: int, cap: int) -> tuple[list[Any], int, bool]:
    """`paginate` for searched lists: (items, count, count_capped), the count stopped at `cap`
    (see pagination.capped_count); with `cap` 0 the count is exact and never capped."""
    limit = max(1, min(limit, MAX_PAGE))
    offset = max(0, min(offset, MAX_OFFSET))
    if not cap:
        # Counted first: a customer list sized by its count picks how to read its page
        # (queries.PreparedCustomerList).
        count = queryset.count()
        return list(queryset[offset : offset + limit]), count, False
    items = list(queryset[offset : offset + limit])
    count, capped = capped_count(queryset, cap)
    return items, count, capped
