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
    rehire_of: str | None = Field(
        None, max_length=64, description="the former 工号 when rehiring someone who left"
    )


class EmployeeRequestPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=100)
    department_id: RecordId | None = None
    position_id: RecordId | None = None
    manager: str | None = Field(None, max_length=64)
    phone: str | None = Field(None, max_length=32)
    email: str | None = Field(None, max_length=254)
    roles: list[str] | None = Field(None, max_length=MAX_ROLES)
    start_date: IsoDate | None = None
    rehire_of: str | None = Field(None, max_length=64)


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
    rehire_of: str | None
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


# --- offboarding -------------------------------------------------------------------------------


class OffboardIn(Schema):
    successor: str | None = Field(
        None,
        max_length=64,
        description='the successor\'s 工号; null (or "pool") sends customers to the public pool',
    )
    effective: IsoDate | None = Field(None, description="the departure day; default today")


class HandoverItemOut(Schema):
    step: str
    kind: str
    record_id: str
    label: str
    from_employee_id: str
    to_employee_id: str | None = Field(description="null: the public pool / nobody")
    moved: bool
    note: str


class OffboardingOut(Schema):
    id: int
    employee_id: str
    successor: str | None
    effective: date
    status: str
    requested_by: str
    created_at: datetime
    completed_at: datetime | None
    cancelled_by: str | None
    cancelled_at: datetime | None
    sessions_ended: int
    tokens_revoked: int
    note: str
    items: list[HandoverItemOut]
    count: int = Field(description="how many report lines in all (items: one page of them)")


class PreviewStepOut(Schema):
    code: str
    label: str
    items: list[HandoverItemOut]


class OffboardingPreviewOut(Schema):
    employee_id: str
    successor: str | None
    steps: list[PreviewStepOut]
    count: int


class EnabledOut(Schema):
    employee_id: str
    status: str
