"""Access reviews API (/api/v1/access-reviews) and role-change requests API
(/api/v1/role-requests)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status

from gonghao.access import services as access
from gonghao.access.models import Role
from gonghao.accounts import services as accounts
from gonghao.core.api_support import READ_ERRORS, WRITE_ERRORS, RecordId, paginate
from gonghao.core.errors import ValidationFailed
from gonghao.org.models import Department

from . import reviews, role_requests
from .access_models import (
    AccessReviewCampaign,
    AccessReviewItem,
    CampaignStatus,
    Decision,
    RoleChangeRequest,
    RoleRequestStatus,
)
from .access_permissions import REVIEW_MANAGE
from .access_schemas import (
    BulkDecisionIn,
    CampaignIn,
    CampaignListOut,
    CampaignOut,
    DecisionIn,
    ItemListOut,
    ItemOut,
    ReportOut,
    RoleRequestIn,
    RoleRequestListOut,
    RoleRequestOut,
    RoleRequestReasonIn,
)
from .usage import grants_of, last_used

reviews_router = Router(tags=["access reviews"])
role_requests_router = Router(tags=["role requests"])


def campaign_out(campaign: AccessReviewCampaign) -> dict[str, Any]:
    return {
        "id": campaign.pk,
        "name": campaign.name,
        "scope": campaign.scope,
        "department": campaign.department.code if campaign.department_id else None,
        "role": campaign.role.code if campaign.role_id else None,
        "owner": campaign.owner.employee_id,
        "starts_on": campaign.starts_on,
        "due_date": campaign.due_date,
        "undecided_default": campaign.undecided_default,
        "repeat": campaign.repeat,
        "status": campaign.status,
        "closed_at": campaign.closed_at,
        "previous_id": campaign.previous_id,
        "created_at": campaign.created_at,
        "counts": reviews.counts_of(campaign).__dict__,
    }


def items_out(items: list[AccessReviewItem]) -> list[dict[str, Any]]:
    """Items with their last use: one audit query for the whole page."""
    used = last_used(grants_of(items))
    return [
        {
            "id": item.pk,
            "campaign_id": item.campaign_id,
            "campaign_status": item.campaign.status,
            "due_date": item.campaign.due_date,
            "employee_id": item.employee.employee_id,
            "employee_name": item.employee.name,
            "department": item.employee.department.code if item.employee.department_id else None,
            "role": item.role.code,
            "role_name": str(item.role),
            "granted_at": item.grant.granted_at,
            "expires_at": item.grant.expires_at,
            "last_used_at": used.get(item.grant_id),
            "reviewer": item.reviewer.employee_id if item.reviewer_id else None,
            "decision": item.decision,
            "comment": item.comment,
            "decided_by": item.decided_by.employee_id if item.decided_by_id else None,
            "decided_at": item.decided_at,
            "by_default": item.by_default,
            "outcome": item.outcome,
        }
        for item in items
    ]


def _scope_objects(payload: CampaignIn) -> tuple[Department | None, Role | None]:
    department = role = None
    if payload.department_id is not None:
        department = Department.objects.filter(pk=payload.department_id).first()
        if department is None:
            raise ValidationFailed(field_errors={"department_id": [_("Not found.")]})
    if payload.role:
        role = Role.objects.filter(code=payload.role).first()
        if role is None:
            raise ValidationFailed(field_errors={"role": [_("Not found.")]})
    return department, role


@reviews_router.post(
    "",
    response={201: CampaignOut, **WRITE_ERRORS},
    summary="Start an access review over all employees, a department tree or a role",
)
def start_campaign(request: HttpRequest, payload: CampaignIn):
    access.require(request.auth, REVIEW_MANAGE)
    department, role = _scope_objects(payload)
    campaign = reviews.start_campaign(
        actor=request.auth,
        name=payload.name,
        scope=payload.scope,
        department=department,
        role=role,
        due_date=payload.due_date,
        undecided_default=payload.undecided_default,
        repeat=payload.repeat,
    )
    return Status(201, campaign_out(reviews.get_campaign_for(request.auth, campaign.pk)))


@reviews_router.get(
    "",
    response={200: CampaignListOut, **READ_ERRORS},
    summary="List access reviews (review managers: all; reviewers: those they review in)",
)
def list_campaigns(
    request: HttpRequest,
    status: CampaignStatus | None = None,
    limit: int = 50,
    offset: int = 0,
):
    queryset = reviews.with_counts(reviews.restrict_campaigns(request.auth))
    if status:
        queryset = queryset.filter(status=status)
    campaigns, count = paginate(queryset, limit, offset)
    return {"items": [campaign_out(c) for c in campaigns], "count": count}


@reviews_router.get(
    "/items",
    response={200: ItemListOut, **READ_ERRORS},
    summary="My review queue: the items assigned to me, with when each grant was last used",
)
def my_items(
    request: HttpRequest,
    campaign_id: RecordId | None = None,
    decision: Decision | None = None,
    limit: int = 50,
    offset: int = 0,
):
    queryset = reviews.items_for_reviewer(request.auth, campaign_id=campaign_id, decision=decision)
    items, count = paginate(queryset, limit, offset)
    return {"items": items_out(items), "count": count}


@reviews_router.post(
    "/items/decide",
    response={200: ItemListOut, **WRITE_ERRORS},
    summary="Keep or revoke several of my items at once (all or none); revoking needs a comment",
)
def decide_many(request: HttpRequest, payload: BulkDecisionIn):
    items = reviews.decide_items(
        payload.item_ids, actor=request.auth, decision=payload.decision, comment=payload.comment
    )
    fresh = list(reviews.items_for_reviewer(request.auth).filter(pk__in=[i.pk for i in items]))
    return {"items": items_out(fresh), "count": len(fresh)}


@reviews_router.get(
    "/items/{item_id}", response={200: ItemOut, **READ_ERRORS}, summary="One review item"
)
def get_item(request: HttpRequest, item_id: RecordId):
    return items_out([reviews.get_item_for(request.auth, item_id)])[0]


@reviews_router.post(
    "/items/{item_id}/decide",
    response={200: ItemOut, **WRITE_ERRORS},
    summary="Keep or revoke one grant I review; revoke applies at once and needs a comment",
)
def decide(request: HttpRequest, item_id: RecordId, payload: DecisionIn):
    reviews.get_item_for(request.auth, item_id)  # not found before any bad input is reported
    decided = reviews.decide_item(
        item_id, actor=request.auth, decision=payload.decision, comment=payload.comment
    )
    return items_out([decided])[0]


@reviews_router.get(
    "/{campaign_id}", response={200: CampaignOut, **READ_ERRORS}, summary="One access review"
)
def get_campaign(request: HttpRequest, campaign_id: RecordId):
    return campaign_out(reviews.get_campaign_for(request.auth, campaign_id))


@reviews_router.get(
    "/{campaign_id}/report",
    response={200: ReportOut, **READ_ERRORS},
    summary="The campaign's report: every item, who decided what and when, what was revoked",
)
def report(request: HttpRequest, campaign_id: RecordId, limit: int = 200, offset: int = 0):
    campaign = reviews.get_campaign_for(request.auth, campaign_id)
    items, count = paginate(reviews.report_items_for(request.auth, campaign), limit, offset)
    return {"campaign": campaign_out(campaign), "items": items_out(items), "count": count}


# --- role-change requests ----------------------------------------------------------------------


def role_request_out(request: RoleChangeRequest) -> dict[str, Any]:
    return {
        "id": request.pk,
        "employee_id": request.employee.employee_id,
        "employee_name": request.employee.name,
        "role": request.role.code,
        "role_name": str(request.role),
        "kind": request.kind,
        "expires_at": request.expires_at,
        "justification": request.justification,
        "status": request.status,
        "requested_by": request.requested_by.employee_id,
        "decided_by": request.decided_by.employee_id if request.decided_by_id else None,
        "decided_at": request.decided_at,
        "reason": request.reason,
        "created_at": request.created_at,
    }


@role_requests_router.post(
    "",
    response={201: RoleRequestOut, **WRITE_ERRORS},
    summary="Ask for a role to be granted to, or revoked from, an existing employee",
)
def file_role_request(request: HttpRequest, payload: RoleRequestIn):
    role_requests.refuse_unless_may_file_any(request.auth)
    try:
        employee = accounts.find_employee(payload.employee_id)
    except accounts.InvalidEmployeeId as error:
        raise ValidationFailed(field_errors={"employee_id": [str(error.message)]}) from None
    created = role_requests.file_role_request(
        actor=request.auth,
        employee=employee,
        role_code=payload.role,
        kind=payload.kind,
        expires_at=payload.expires_at,
        justification=payload.justification,
    )
    return Status(201, role_request_out(created))


@role_requests_router.get(
    "",
    response={200: RoleRequestListOut, **READ_ERRORS},
    summary="List role-change requests (approvers and role managers: all; others: their own)",
)
def list_role_requests(
    request: HttpRequest,
    status: RoleRequestStatus | None = None,
    limit: int = 50,
    offset: int = 0,
):
    queryset = role_requests.list_requests_for(request.auth, status=status)
    found, count = paginate(queryset, limit, offset)
    return {"items": [role_request_out(r) for r in found], "count": count}


@role_requests_router.get(
    "/{request_id}",
    response={200: RoleRequestOut, **READ_ERRORS},
    summary="One role-change request",
)
def get_role_request(request: HttpRequest, request_id: RecordId):
    return role_request_out(role_requests.get_request_for(request.auth, request_id))


@role_requests_router.post(
    "/{request_id}/approve",
    response={200: RoleRequestOut, **WRITE_ERRORS},
    summary="Approve: the role is granted or revoked at once (four eyes)",
)
def approve_role_request(request: HttpRequest, request_id: RecordId):
    found = role_requests.get_request_for(request.auth, request_id)
    return role_request_out(role_requests.approve_role_request(found, actor=request.auth))


@role_requests_router.post(
    "/{request_id}/reject",
    response={200: RoleRequestOut, **WRITE_ERRORS},
    summary="Reject a role-change request with a reason",
)
def reject_role_request(request: HttpRequest, request_id: RecordId, payload: RoleRequestReasonIn):
    found = role_requests.get_request_for(request.auth, request_id)
    rejected = role_requests.reject_role_request(found, actor=request.auth, reason=payload.reason)
    return role_request_out(rejected)


@role_requests_router.post(
    "/{request_id}/withdraw",
    response={200: RoleRequestOut, **WRITE_ERRORS},
    summary="Withdraw a role-change request (the requester only)",
)
def withdraw_role_request(request: HttpRequest, request_id: RecordId):
    found = role_requests.get_request_for(request.auth, request_id)
    return role_request_out(role_requests.withdraw_role_request(found, actor=request.auth))
