"""Request and response bodies of the customers API."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema
from pydantic import ConfigDict

from gonghao.core.api_support import BodySchema
from gonghao.core.pagination import SEARCH_COUNT_CAP

from .constants import CustomerKind, CustomerStatus


class OwnerRef(BodySchema):
    employee_id: str
    name: str


class CustomerOut(BodySchema):
    id: int
    kind: str
    name: str
    status: str
    industry: str | None = None
    level: str | None = None
    source: str | None = None
    phone: str | None = None
    email: str | None = None
    id_number: str | None = None
    address: str | None = None
    tags: str | None = None
    notes: str | None = None
    hidden_fields: list[str]
    owner: OwnerRef | None
    owner_department_id: int | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None


class CustomerDetailOut(CustomerOut):
    import_batch: int | None = Field(
        description="the import batch that created the customer, if an import did"
    )


class CustomerListOut(BodySchema):
    items: list[CustomerOut]
    count: int = Field(
        description=f"matches; a search counts up to {SEARCH_COUNT_CAP} (see count_capped)"
    )
    count_capped: bool = Field(
        description="true when a search matched more than `count`: the count stopped at its cap"
    )
    sort: str = Field(
        description=(
            "the order of the items: the `sort` asked for, else -updated (most recently updated"
            " first), or for a search -added (most recently added first)"
        )
    )


class CustomerIn(Schema):
    # An unknown field is refused (422), not silently dropped: a typo must not lose data.
    model_config = ConfigDict(extra="forbid")

    kind: CustomerKind = CustomerKind.COMPANY
    name: str = Field(..., min_length=1, max_length=200)
    industry: str = Field("", max_length=100)
    level: str = Field("", max_length=2)
    source: str = Field("", max_length=20)
    status: CustomerStatus = CustomerStatus.LEAD
    phone: str = Field("", max_length=32)
    email: str = Field("", max_length=254)
    id_number: str = Field("", max_length=32)
    address: str = Field("", max_length=300)
    tags: str = Field("", max_length=300)
    notes: str = Field("", max_length=5000)
    owner: str | None = Field(None, max_length=64, description="the owner's 工号; default: you")


class CustomerPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    kind: CustomerKind | None = None
    name: str | None = Field(None, min_length=1, max_length=200)
    industry: str | None = Field(None, max_length=100)
    level: str | None = Field(None, max_length=2)
    source: str | None = Field(None, max_length=20)
    status: CustomerStatus | None = None
    phone: str | None = Field(None, max_length=32)
    email: str | None = Field(None, max_length=254)
    id_number: str | None = Field(None, max_length=32)
    address: str | None = Field(None, max_length=300)
    tags: str | None = Field(None, max_length=300)
    notes: str | None = Field(None, max_length=5000)


class TransferIn(Schema):
    owner: str = Field(..., min_length=1, max_length=64, description="the new owner's 工号")


class RevealIn(Schema):
    fields: list[str] = Field(..., min_length=1, max_length=3)


class RevealOut(Schema):
    values: dict[str, str]
