"""Contacts and interactions API: a customer's contacts and timeline, my follow-ups, reveal."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from gonghao.accounts.stepup import require_step_up
from gonghao.core.api_support import (
    READ_ERRORS,
    WRITE_ERRORS,
    IsoDate,
    IsoDateTime,
    RecordId,
    paginate,
)

from . import contacts, followups
from . import permissions as perms
from .constants import InteractionKind
from .models import Interaction

router = Router()

CONTACTS = ["contacts"]
INTERACTIONS = ["interactions"]


# --- schemas ----------------------------------------------------------------------------------


class ContactOut(Schema):
    id: int
    customer_id: int
    name: str
    title: str
    phone: str = Field(description="masked unless revealed (POST /contacts/{id}/reveal)")
    email: str = Field(description="masked")
    wechat: str = Field(description="masked")
    is_primary: bool
    notes: str
    created_at: datetime
    updated_at: datetime


class ContactListOut(Schema):
    items: list[ContactOut]
    count: int


class ContactIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., min_length=1, max_length=100)
    title: str = Field("", max_length=100)
    phone: str = Field("", max_length=32)
    email: str = Field("", max_length=254)
    wechat: str = Field("", max_length=64)
    is_primary: bool = Field(False, description="a new primary contact replaces the old one")
    notes: str = Field("", max_length=5000)


class ContactPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=100)
    title: str | None = Field(None, max_length=100)
    phone: str | None = Field(None, max_length=32)
    email: str | None = Field(None, max_length=254)
    wechat: str | None = Field(None, max_length=64)
    is_primary: bool | None = None
    notes: str | None = Field(None, max_length=5000)


class ContactRevealIn(Schema):
    fields: list[str] = Field(..., min_length=1, max_length=3, description="phone, email, wechat")


class ContactRevealOut(Schema):
    values: dict[str, str]


class EmployeeRef(Schema):
    employee_id: str = Field(description="工号")
    name: str


class ContactRef(Schema):
    id: int
    name: str


class CustomerRef(Schema):
    id: int
    name: str


class InteractionOut(Schema):
    id: int
    customer: CustomerRef
    contact: ContactRef | None
    employee: EmployeeRef
    kind: str
    kind_label: str
    occurred_at: datetime
    content: str
    outcome: str
    next_follow_up: date | None
    follow_up_done_at: datetime | None
    created_at: datetime


class InteractionListOut(Schema):
    items: list[InteractionOut]
    count: int


class InteractionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    kind: InteractionKind
    content: str = Field(..., min_length=1, max_length=5000)
    outcome: str = Field("", max_length=300)
    occurred_at: IsoDateTime | None = Field(None, description="default: now; at most 5 min ahead")
    next_follow_up: IsoDate | None = Field(None, description="not before the interaction's date")
    contact_id: RecordId | None = Field(None, description="a contact of this customer")


def interaction_out(interaction: Interaction) -> dict:
    contact = interaction.contact
    return {
        "id": interaction.pk,
        "customer": {"id": interaction.customer_id, "name": interaction.customer.name},
        "contact": {"id": contact.pk, "name": contact.name} if contact else None,
        "employee": {
            "employee_id": interaction.employee.employee_id,
            "name": interaction.employee.name,
        },
        "kind": interaction.kind,
        "kind_label": str(interaction.get_kind_display()),
        "occurred_at": interaction.occurred_at,
        "content": interaction.content,
        "outcome": interaction.outcome,
        "next_follow_up": interaction.next_follow_up,
        "follow_up_done_at": interaction.follow_up_done_at,
        "created_at": interaction.created_at,
    }


# --- contacts ---------------------------------------------------------------------------------


@router.get(
    "/customers/{customer_id}/contacts",
    response={200: ContactListOut, **READ_ERRORS},
    tags=CONTACTS,
    summary="List a customer's contacts (personal data masked)",
)
def list_contacts(request: HttpRequest, customer_id: RecordId, limit: int = 50, offset: int = 0):
    items, count = paginate(contacts.contacts_for(request.auth, customer_id), limit, offset)
    return {"items": [contacts.present_contact(c) for c in items], "count": count}


@router.post(
    "/customers/{customer_id}/contacts",
    response={201: ContactOut, **WRITE_ERRORS},
    tags=CONTACTS,
    summary="Add a contact to a customer (company or person); needs customer.edit",
)
def create_contact(request: HttpRequest, customer_id: RecordId, payload: ContactIn):
    contact = contacts.create_contact(customer_id, actor=request.auth, data=payload.dict())
    return Status(201, contacts.present_contact(contact))


@router.get(
    "/contacts/{contact_id}",
    response={200: ContactOut, **READ_ERRORS},
    tags=CONTACTS,
    summary="One contact (personal data masked)",
)
def get_contact(request: HttpRequest, contact_id: RecordId):
    return contacts.present_contact(contacts.get_contact_for(request.auth, contact_id))


@router.patch(
    "/contacts/{contact_id}",
    response={200: ContactOut, **WRITE_ERRORS},
    tags=CONTACTS,
    summary="Change a contact; needs customer.edit on its customer",
)
def update_contact(request: HttpRequest, contact_id: RecordId, payload: ContactPatch):
    data = payload.dict(exclude_unset=True)
    contact = contacts.update_contact(contact_id, actor=request.auth, data=data)
    return contacts.present_contact(contact)


@router.delete(
    "/contacts/{contact_id}",
    response={204: None, **WRITE_ERRORS},
    tags=CONTACTS,
    summary="Delete a contact (soft)",
)
def delete_contact(request: HttpRequest, contact_id: RecordId):
    contacts.delete_contact(contact_id, actor=request.auth)
    return Status(204, None)


@router.post(
    "/contacts/{contact_id}/reveal",
    response={200: ContactRevealOut, **WRITE_ERRORS},
    tags=CONTACTS,
    summary="Reveal a contact's masked personal data (audited; customer.view_sensitive)",
)
def reveal_contact(request: HttpRequest, contact_id: RecordId, payload: ContactRevealIn):
    require_step_up(request, "contact.reveal", permission=perms.VIEW_SENSITIVE)
    values = contacts.reveal_contact_fields(contact_id, actor=request.auth, fields=payload.fields)
    return {"values": values}


# --- interactions -----------------------------------------------------------------------------


@router.get(
    "/customers/{customer_id}/interactions",
    response={200: InteractionListOut, **READ_ERRORS},
    tags=INTERACTIONS,
    summary="A customer's interaction timeline, newest first",
)
def list_interactions(
    request: HttpRequest, customer_id: RecordId, limit: int = 50, offset: int = 0
):
    items, count = paginate(followups.timeline_for(request.auth, customer_id), limit, offset)
    return {"items": [interaction_out(i) for i in items], "count": count}


@router.post(
    "/customers/{customer_id}/interactions",
    response={201: InteractionOut, **WRITE_ERRORS},
    tags=INTERACTIONS,
    summary="Record a follow-up; closes your earlier open follow-ups on the customer",
)
def record_interaction(request: HttpRequest, customer_id: RecordId, payload: InteractionIn):
    data = payload.dict()
    data["kind"] = str(payload.kind.value)
    interaction = followups.record_interaction(customer_id, actor=request.auth, data=data)
    return Status(201, interaction_out(interaction))


@router.get(
    "/interactions/mine",
    response={200: InteractionListOut, **READ_ERRORS},
    tags=INTERACTIONS,
    summary="My open follow-ups due today and/or overdue (today in the request's time zone)",
)
def my_follow_ups(
    request: HttpRequest,
    due: Literal["today", "overdue", "all"] = Query("all"),
    limit: int = 50,
    offset: int = 0,
):
    items, count = paginate(followups.my_follow_ups(request.auth, due), limit, offset)
    return {"items": [interaction_out(i) for i in items], "count": count}


@router.post(
    "/interactions/{interaction_id}/done",
    response={200: InteractionOut, **WRITE_ERRORS},
    tags=INTERACTIONS,
    summary="Mark your own follow-up done",
)
def follow_up_done(request: HttpRequest, interaction_id: RecordId):
    interaction = followups.mark_follow_up_done(interaction_id, actor=request.auth)
    return interaction_out(interaction)
