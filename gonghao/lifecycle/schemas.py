"""Request and response bodies of the onboarding API."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Field, Schema

from gonghao.core.api_support import IsoDate, RecordId

from .constants import MAX_REASON, MAX_ROLES
from .models import RequestStatus


class EmployeeRequestIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    department_id: RecordId
    position_id: RecordId | None = None
    manager: str | None = Field(None, max_length=64, description="the manager's 工号")
    phone: str = Field("", max_length=32)
    email: str = Field("", max_length=254)
    roles: list[str] = Field(default_factory=list, max_length=MAX_ROLES)
    start_date: IsoDate | None = None


class EmployeeRequestPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=100)
    department_id: RecordId | None = None
    position_id: RecordId | None = None
    manager: str | None = Field(None, max_length=64)
    phone: str | None = Field(None, max_length=32)
    email: str | None = Field(None, max_length=254)
    roles: list[str] | None = Field(None, max_length=MAX_ROLES)
    start_date: IsoDate | None = None


class ReasonIn(Schema):
    reason: str = Field(..., min_length=1, max_length=MAX_REASON)


class Ref(Schema):
    id: int
    code: str
    name: str


class EmployeeRequestOut(Schema):
    id: int
    employee_id: str
    status: RequestStatus
    name: str
    department: Ref
    position: Ref | None
    manager: str | None
    phone: str
    email: str
    roles: list[str]
    start_date: date | None
    requested_by: str
    decided_by: str | None
    decided_at: datetime | None
    reason: str
    created_at: datetime
    updated_at: datetime


class EmployeeRequestListOut(Schema):
    items: list[EmployeeRequestOut]
    count: int


class ApprovalOut(Schema):
    employee_id: str
    initial_password: str
