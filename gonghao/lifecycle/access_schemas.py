"""Request and response bodies of the access-review and role-request APIs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from ninja import Field, Schema

from gonghao.core.api_support import IsoDate, IsoDateTime, RecordId

from .access_models import (
    CampaignScope,
    CampaignStatus,
    Decision,
    Outcome,
    Repeat,
    RoleRequestKind,
    RoleRequestStatus,
    UndecidedDefault,
)
from .constants import MAX_REASON
from .reviews import MAX_BULK


class CampaignIn(Schema):
    name: str = Field("", max_length=200)
    scope: CampaignScope
    department_id: RecordId | None = None
    role: str | None = Field(None, max_length=50, description="the role's code")
    due_date: IsoDate | None = Field(None, description="default: 14 days from today")
    undecided_default: UndecidedDefault = UndecidedDefault.REVOKE
    repeat: Repeat = Repeat.NONE


class CountsOut(Schema):
    total: int
    pending: int
    kept: int
    revoked: int
    by_default: int
    already_ended: int
    unassigned: int


class CampaignOut(Schema):
    id: int
    name: str
    scope: CampaignScope
    department: str | None = Field(description="the department's code")
    role: str | None
    owner: str
    starts_on: date
    due_date: date
    undecided_default: UndecidedDefault
    repeat: Repeat
    status: CampaignStatus
    closed_at: datetime | None
    previous_id: int | None
    created_at: datetime
    counts: CountsOut


class CampaignListOut(Schema):
    items: list[CampaignOut]
    count: int


class ItemOut(Schema):
    id: int
    campaign_id: int
    campaign_status: CampaignStatus
    due_date: date
    employee_id: str
    employee_name: str
    department: str | None
    role: str
    role_name: str
    granted_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None = Field(
        description="when the grant's permissions were last used, from the audit log"
    )
    reviewer: str | None
    decision: Decision
    comment: str
    decided_by: str | None
    decided_at: datetime | None
    by_default: bool
    outcome: Outcome


class ItemListOut(Schema):
    items: list[ItemOut]
    count: int


class ReportOut(Schema):
    campaign: CampaignOut
    items: list[ItemOut]
    count: int


class DecisionIn(Schema):
    decision: Literal["keep", "revoke"]
    comment: str = Field("", max_length=MAX_REASON, description="required to revoke")


class BulkDecisionIn(DecisionIn):
    item_ids: list[RecordId] = Field(..., min_length=1, max_length=MAX_BULK)


class RoleRequestIn(Schema):
    employee_id: str = Field(..., min_length=1, max_length=64, description="the 工号")
    role: str = Field(..., min_length=1, max_length=50)
    kind: RoleRequestKind = RoleRequestKind.GRANT
    expires_at: IsoDateTime | None = None
    justification: str = Field("", max_length=MAX_REASON)


class RoleRequestOut(Schema):
    id: int
    employee_id: str
    employee_name: str
    role: str
    role_name: str
    kind: RoleRequestKind
    expires_at: datetime | None
    justification: str
    status: RoleRequestStatus
    requested_by: str
    decided_by: str | None
    decided_at: datetime | None
    reason: str
    created_at: datetime


class RoleRequestListOut(Schema):
    items: list[RoleRequestOut]
    count: int


class RoleRequestReasonIn(Schema):
    reason: str = Field(..., min_length=1, max_length=MAX_REASON)
