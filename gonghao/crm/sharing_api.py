"""Sharing and public-pool API: a customer's shares, the pool, claim and release."""

from __future__ import annotations

from datetime import date, datetime

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from gonghao.core.api_support import READ_ERRORS, WRITE_ERRORS, IsoDate, RecordId, paginate_capped
from gonghao.core.errors import ValidationFailed
from gonghao.core.pagination import SEARCH_COUNT_CAP, search_count_cap
from gonghao.org.models import Department

from . import contacts, pool, sharing
from .api import _employee_field, customer_out
from .constants import ShareAccess
from .contacts_api import ContactOut, InteractionOut, interaction_out
from .schemas import CustomerOut

router = Router(exclude_unset=True)

SHARES = ["sharing"]
POOL = ["public pool"]


class PersonRef(Schema):
    employee_id: str = Field(description="工号")
    name: str


class DepartmentRef(Schema):
    id: int
    name: str


class ShareOut(Schema):
    id: int
    customer_id: int
    employee: PersonRef | None = None
    department: DepartmentRef | None = None
    include_subdepartments: bool
    access: str = Field(description="read or edit")
    until: date | None = None
    expires_at: datetime | None = None
    active: bool
    created_by: PersonRef | None = None
    created_at: datetime
    revoked_at: datetime | None = None


class ShareListOut(Schema):
    items: list[ShareOut]
    count: int


class ShareIn(Schema):
    model_config = ConfigDict(extra="forbid")

    employee: str | None = Field(None, max_length=64, description="the recipient's 工号")
    department_id: RecordId | None = Field(None, description="or a whole department")
    include_subdepartments: bool = Field(False, description="department shares only")
    access: ShareAccess = ShareAccess.READ
    until: IsoDate | None = Field(None, description="works through this day (inclusive)")


class PoolCustomerOut(CustomerOut):
    pool_since: datetime | None = None


class PoolCustomerDetailOut(PoolCustomerOut):
    contacts: list[ContactOut] = Field(description="its contacts, masked")
    recent_follow_ups: list[InteractionOut] = Field(
        description=f"its newest follow-ups, at most {pool.POOL_RECENT_FOLLOW_UPS}"
    )
    follow_up_count: int = Field(description="how many follow-ups it has in all")


class PoolListOut(Schema):
    items: list[PoolCustomerOut]
    count: int = Field(
        description=f"matches; a search counts up to {SEARCH_COUNT_CAP} (see count_capped)"
    )
    count_capped: bool = Field(
        description="true when a search matched more than `count`: the count stopped at its cap"
    )
    held: int = Field(description="customers you hold from the pool now")
    cap: int = Field(description="the most you may hold at once")


class ReleaseIn(Schema):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(..., min_length=1, max_length=300)


def _department(department_id: int | None):
    if department_id is None:
        return None
    department = Department.objects.filter(pk=department_id).first()
    if department is None:
        raise ValidationFailed(field_errors={"department_id": [_("Unknown department.")]})
    return department


@router.get(
    "/customers/pool",
    response={200: PoolListOut, **READ_ERRORS},
    summary="The public pool (公海): customers without an owner, masked",
    tags=POOL,
)
def list_pool(
    request: HttpRequest,
    q: str = Query("", max_length=100, description="name, phone digits or e-mail"),
    limit: int = 50,
    offset: int = 0,
):
    cap = search_count_cap(q)
    items, count, capped = paginate_capped(pool.pool_for(request.auth, q), limit, offset, cap)
    rows = []
    for customer in items:
        row = customer_out(customer, request.auth)
        row["pool_since"] = customer.pool_since
        rows.append(row)
    return {
        "items": rows,
        "count": count,
        "count_capped": capped,
        "held": pool.held_from_pool(request.auth),
        "cap": settings.GONGHAO_POOL_CLAIM_CAP,
    }


@router.get(
    "/customers/pool/{customer_id}",
    response={200: PoolCustomerDetailOut, **READ_ERRORS},
    summary=(
        "One customer of the public pool, masked as in the pool, with its contacts and newest "
        "follow-ups (404 once claimed; the read is audited)"
    ),
    tags=POOL,
)
def get_pool_customer(request: HttpRequest, customer_id: RecordId):
    actor = request.auth
    customer = pool.pool_customer_for(actor, customer_id)
    pool.record_pool_view(customer, actor=actor)
    follow_ups, follow_up_count = pool.pool_follow_ups(customer)
    body = customer_out(customer, actor)
    body.update(
        pool_since=customer.pool_since,
        contacts=[contacts.present_contact(c) for c in pool.pool_contacts(customer)],
        recent_follow_ups=[interaction_out(i) for i in follow_ups],
        follow_up_count=follow_up_count,
    )
    return body


@router.post(
    "/customers/{customer_id}/claim",
    response={200: CustomerOut, **WRITE_ERRORS},
    summary="Claim a customer from the public pool (409 if taken first or at your cap)",
    tags=POOL,
)
def claim(request: HttpRequest, customer_id: RecordId):
    customer = pool.claim_customer(customer_id, actor=request.auth)
    return customer_out(customer, request.auth)


@router.post(
    "/customers/{customer_id}/release",
    response={200: CustomerOut, **WRITE_ERRORS},
    summary="Release your customer to the public pool, with a reason",
    tags=POOL,
)
def release(request: HttpRequest, customer_id: RecordId, payload: ReleaseIn):
    customer = pool.release_customer(customer_id, actor=request.auth, reason=payload.reason)
    return customer_out(customer, request.auth)


@router.get(
    "/customers/{customer_id}/shares",
    response={200: ShareListOut, **READ_ERRORS},
    summary="Whom a customer is shared with (live shares; all=true adds ended ones)",
    tags=SHARES,
)
def list_shares(request: HttpRequest, customer_id: RecordId, all: bool = False):
    shares = list(sharing.shares_for(request.auth, customer_id, include_inactive=all))
    return {"items": [sharing.present_share(s) for s in shares], "count": len(shares)}


@router.post(
    "/customers/{customer_id}/shares",
    response={201: ShareOut, **WRITE_ERRORS},
    summary="Share a customer with an employee or a department, read only or editable",
    tags=SHARES,
)
def create_share(request: HttpRequest, customer_id: RecordId, payload: ShareIn):
    employee = _employee_field(payload.employee, "employee") if payload.employee else None
    share = sharing.share_customer(
        customer_id,
        actor=request.auth,
        employee=employee,
        department=_department(payload.department_id),
        include_subdepartments=payload.include_subdepartments,
        access=payload.access,
        until=payload.until,
    )
    return Status(201, sharing.present_share(share))


@router.delete(
    "/customers/{customer_id}/shares/{share_id}",
    response={204: None, **WRITE_ERRORS},
    summary="Stop sharing a customer",
    tags=SHARES,
)
def delete_share(request: HttpRequest, customer_id: RecordId, share_id: RecordId):
    sharing.revoke_share(customer_id, share_id, actor=request.auth)
    return Status(204, None)
