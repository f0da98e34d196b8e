"""Opportunities and pipeline stages API: scoped lists, detail, writes, stage moves, history."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from gonghao.accounts.services import InvalidEmployeeId, find_employee
from gonghao.core.api_support import READ_ERRORS, WRITE_ERRORS, IsoDate, RecordId, paginate
from gonghao.core.errors import NotFound, ValidationFailed

from . import opportunities as opps
from .constants import Currency
from .schemas import OwnerRef

# Fields a role hides are left out of each item (not sent as null): exclude_unset.
router = Router(exclude_unset=True)
stages_router = Router()


# --- schemas -----------------------------------------------------------------------------------


class StageRef(Schema):
    code: str
    name: str
    is_won: bool
    is_lost: bool


class CustomerRef(Schema):
    id: int
    name: str


class OpportunityOut(Schema):
    id: int
    name: str
    customer: CustomerRef
    amount: Decimal | None = None
    currency: str
    stage: StageRef
    probability: int | None = None
    expected_close: date | None
    owner: OwnerRef | None
    owner_department_id: int | None
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    hidden_fields: list[str]


class OpportunityListOut(Schema):
    items: list[OpportunityOut]
    count: int


class OpportunityIn(Schema):
    # An unknown field is refused (422), not silently dropped: a typo must not lose data.
    model_config = ConfigDict(extra="forbid")

    customer_id: RecordId
    name: str = Field(..., min_length=1, max_length=200)
    amount: Decimal = Field(Decimal("0"), description="at most 2 decimals, under 10^12")
    currency: Currency = Currency.CNY
    stage: str | None = Field(None, max_length=32, description="stage code; default: the first")
    probability: int | None = Field(None, description="0..100; default: the stage's")
    expected_close: IsoDate | None = None
    owner: str | None = Field(None, max_length=64, description="the owner's 工号; default: you")


class OpportunityPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    amount: Decimal | None = None
    currency: Currency | None = None
    probability: int | None = None
    expected_close: IsoDate | None = None
    owner: str | None = Field(None, max_length=64, description="the new owner's 工号")


class MoveIn(Schema):
    model_config = ConfigDict(extra="forbid")

    stage: str = Field(..., min_length=1, max_length=32, description="the target stage's code")
    probability: int | None = Field(None, description="0..100; default: the stage's")


class StageChangeOut(Schema):
    from_stage: StageRef | None
    to_stage: StageRef
    changed_by: OwnerRef | None
    changed_at: datetime


class HistoryOut(Schema):
    items: list[StageChangeOut]
    count: int


class StageOut(Schema):
    id: int
    code: str
    name_zh: str
    name_en: str
    position: int
    probability: int
    is_won: bool
    is_lost: bool
    is_active: bool


class StageListOut(Schema):
    items: list[StageOut]
    count: int


class StageIn(Schema):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(..., min_length=1, max_length=32)
    name_zh: str = Field(..., min_length=1, max_length=50)
    name_en: str = Field(..., min_length=1, max_length=50)
    position: int = Field(0, ge=0, le=32767)
    probability: int = Field(0, ge=0, le=100)
    is_won: bool = False
    is_lost: bool = False
    is_active: bool = True


class StagePatch(Schema):
    model_config = ConfigDict(extra="forbid")

    code: str | None = Field(None, min_length=1, max_length=32)
    name_zh: str | None = Field(None, min_length=1, max_length=50)
    name_en: str | None = Field(None, min_length=1, max_length=50)
    position: int | None = Field(None, ge=0, le=32767)
    probability: int | None = Field(None, ge=0, le=100)
    is_won: bool | None = None
    is_lost: bool | None = None
    is_active: bool | None = None


# --- helpers -----------------------------------------------------------------------------------


def _employee_field(raw: str, field: str):
    try:
        return find_employee(raw)
    except (InvalidEmployeeId, NotFound) as error:
        raise ValidationFailed(field_errors={field: [str(error.message)]})


def _plain(value):
    """An enum member as its plain value (None stays None: the service refuses it)."""
    return getattr(value, "value", value)


def _person(employee) -> dict | None:
    if employee is None:
        return None
    return {"employee_id": employee.employee_id, "name": employee.name}


# --- opportunities -----------------------------------------------------------------------------


@router.get(
    "",
    response={200: OpportunityListOut, **READ_ERRORS},
    summary="List the opportunities in your scope",
)
def list_opportunities(
    request: HttpRequest,
    q: str = Query("", max_length=100, description="part of the name"),
    stage: str = Query("", max_length=32, description="stage code"),
    owner: str = Query("", max_length=64, description="owner's 工号"),
    customer_id: RecordId | None = None,
    closing_before: IsoDate | None = None,
    closing_after: IsoDate | None = None,
    sort: str = Query("-updated", max_length=10, description="name, close, amount, updated"),
    limit: int = 50,
    offset: int = 0,
):
    owner_id = _employee_field(owner, "owner").pk if owner else None
    filters = opps.OpportunityFilter(
        q=q,
        stage=stage,
        owner_id=owner_id,
        customer_id=customer_id,
        closing_before=closing_before,
        closing_after=closing_after,
        sort=sort,
    )
    items, count = paginate(opps.opportunities_for(request.auth, filters), limit, offset)
    hidden = opps.hidden_for(request.auth)
    return {"items": [opps.present(o, request.auth, hidden) for o in items], "count": count}


@router.post(
    "",
    response={201: OpportunityOut, **WRITE_ERRORS},
    summary="Create an opportunity on a customer you can see",
)
def create_opportunity(request: HttpRequest, payload: OpportunityIn):
    data = payload.dict(
        include={"name", "amount", "currency", "probability", "expected_close"},
        exclude_unset=True,
    )
    data["name"] = payload.name
    if "currency" in data:
        data["currency"] = _plain(data["currency"])
    owner = _employee_field(payload.owner, "owner") if payload.owner else None
    opportunity = opps.create_opportunity(
        actor=request.auth,
        customer_id=payload.customer_id,
        data=data,
        stage_code=payload.stage,
        owner=owner,
    )
    return Status(201, opps.present(opportunity, request.auth))


@router.get(
    "/{opportunity_id}",
    response={200: OpportunityOut, **READ_ERRORS},
    summary="One opportunity",
)
def get_opportunity(request: HttpRequest, opportunity_id: RecordId):
    return opps.present(opps.get_opportunity_for(request.auth, opportunity_id), request.auth)


@router.patch(
    "/{opportunity_id}",
    response={200: OpportunityOut, **WRITE_ERRORS},
    summary="Change an opportunity (its stage moves through /stage)",
)
def update_opportunity(request: HttpRequest, opportunity_id: RecordId, payload: OpportunityPatch):
    data = payload.dict(exclude_unset=True)
    raw_owner = data.pop("owner", None)
    if "currency" in data:
        data["currency"] = _plain(data["currency"])
    owner = _employee_field(raw_owner, "owner") if raw_owner else None
    opportunity = opps.update_opportunity(
        opportunity_id, actor=request.auth, data=data, owner=owner
    )
    return opps.present(opportunity, request.auth)


@router.delete(
    "/{opportunity_id}",
    response={204: None, **WRITE_ERRORS},
    summary="Delete an opportunity (soft)",
)
def delete_opportunity(request: HttpRequest, opportunity_id: RecordId):
    opps.delete_opportunity(opportunity_id, actor=request.auth)
    return Status(204, None)


@router.post(
    "/{opportunity_id}/stage",
    response={200: OpportunityOut, **WRITE_ERRORS},
    summary="Move an opportunity to another stage (recorded in its history)",
)
def move_opportunity(request: HttpRequest, opportunity_id: RecordId, payload: MoveIn):
    opportunity = opps.move_opportunity(
        opportunity_id,
        actor=request.auth,
        stage_code=payload.stage,
        probability=payload.probability,
    )
    return opps.present(opportunity, request.auth)


@router.get(
    "/{opportunity_id}/history",
    response={200: HistoryOut, **READ_ERRORS},
    summary="An opportunity's stage changes, oldest first",
)
def opportunity_history(request: HttpRequest, opportunity_id: RecordId):
    changes = list(opps.history_of(request.auth, opportunity_id))
    items = [
        {
            "from_stage": opps.stage_ref(c.from_stage) if c.from_stage_id else None,
            "to_stage": opps.stage_ref(c.to_stage),
            "changed_by": _person(c.changed_by),
            "changed_at": c.changed_at,
        }
        for c in changes
    ]
    return {"items": items, "count": len(items)}


# --- pipeline stages ---------------------------------------------------------------------------


@stages_router.get(
    "",
    response={200: StageListOut, **READ_ERRORS},
    summary="The pipeline's stages, in order (inactive ones included)",
)
def list_stages(request: HttpRequest):
    stages = list(opps.stages_for(request.auth))
    return {"items": stages, "count": len(stages)}


@stages_router.post("", response={201: StageOut, **WRITE_ERRORS}, summary="Add a pipeline stage")
def create_stage(request: HttpRequest, payload: StageIn):
    stage = opps.create_stage(actor=request.auth, data=payload.dict())
    return Status(201, stage)


@stages_router.patch(
    "/{stage_id}",
    response={200: StageOut, **WRITE_ERRORS},
    summary="Change a pipeline stage (one holding open opportunities stays active)",
)
def update_stage(request: HttpRequest, stage_id: RecordId, payload: StagePatch):
    data = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    return opps.update_stage(stage_id, actor=request.auth, data=data)
