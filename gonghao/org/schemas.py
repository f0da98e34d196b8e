"""Request and response bodies of the organisation API."""

from __future__ import annotations

from ninja import Field, Schema

from gonghao.core.api_support import RecordId


class DepartmentOut(Schema):
    id: int
    code: str
    name: str
    parent_id: int | None
    head: str | None
    is_active: bool


class DepartmentListOut(Schema):
    items: list[DepartmentOut]
    count: int


class DepartmentIn(Schema):
    code: str = Field(..., min_length=1, max_length=32)
    name: str = Field(..., min_length=1, max_length=100)
    parent_id: RecordId | None = None
    head: str | None = Field(None, max_length=64, description="the head's 工号")


class DepartmentPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=100)
    parent_id: RecordId | None = None
    head: str | None = Field(None, max_length=64)
    is_active: bool | None = None


class PositionOut(Schema):
    id: int
    code: str
    name: str
    is_active: bool


class PositionListOut(Schema):
    items: list[PositionOut]
    count: int


class PositionIn(Schema):
    code: str = Field(..., min_length=1, max_length=32)
    name: str = Field(..., min_length=1, max_length=100)


class PositionPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=100)
    is_active: bool | None = None
