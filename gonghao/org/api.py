"""Organisation API: departments and positions (everyone reads, administrators write)."""

from __future__ import annotations

from django.db.models import Q
from django.http import HttpRequest
from ninja import Query, Router, Status

from gonghao.access.services import require
from gonghao.accounts.services import InvalidEmployeeId, find_employee
from gonghao.core.api_support import READ_ERRORS, WRITE_ERRORS, RecordId, paginate
from gonghao.core.errors import NotFound, ValidationFailed

from . import services
from .models import Department, Position
from .schemas import (
    DepartmentIn,
    DepartmentListOut,
    DepartmentOut,
    DepartmentPatch,
    PositionIn,
    PositionListOut,
    PositionOut,
    PositionPatch,
)

departments_router = Router()
positions_router = Router()

# Query values the databases can store and compare: no NUL (PostgreSQL refuses it in text), no
# integer beyond 64 bits (SQLite cannot bind it). Otherwise a bad query string would be a 500.
_MAX_ID = 2**63 - 1


def _search():
    return Query("", max_length=100, pattern=r"^[^\x00]*$")


def _department_out(department: Department) -> dict:
    return {
        "id": department.pk,
        "code": department.code,
        "name": department.name,
        "parent_id": department.parent_id,
        "head": department.head.employee_id if department.head_id else None,
        "is_active": department.is_active,
    }


def _resolve_parent(parent_id: int | None) -> Department | None:
    if parent_id is None:
        return None
    try:
        return services.get_department(parent_id)
    except NotFound as error:
        raise ValidationFailed(field_errors={"parent_id": [str(error.message)]})


def _resolve_head(raw: str | None):
    if not raw:
        return None
    try:
        return find_employee(raw)
    except (InvalidEmployeeId, NotFound) as error:
        raise ValidationFailed(field_errors={"head": [str(error.message)]})


@departments_router.get(
    "", response={200: DepartmentListOut, **READ_ERRORS}, summary="List departments"
)
def list_departments(
    request: HttpRequest,
    q: str = _search(),
    parent_id: int | None = Query(None, ge=1, le=_MAX_ID),
    limit: int = 100,
    offset: int = 0,
):
    queryset = Department.objects.select_related("head")
    if q:
        queryset = queryset.filter(Q(code__icontains=q) | Q(name__icontains=q))
    if parent_id is not None:
        queryset = queryset.filter(parent_id=parent_id)
    items, count = paginate(queryset.order_by("code"), limit, offset)
    return {"items": [_department_out(d) for d in items], "count": count}


@departments_router.get(
    "/{department_id}", response={200: DepartmentOut, **READ_ERRORS}, summary="One department"
)
def get_department(request: HttpRequest, department_id: RecordId):
    return _department_out(services.get_department(department_id))


@departments_router.post(
    "", response={201: DepartmentOut, **WRITE_ERRORS}, summary="Create a department"
)
def create_department(request: HttpRequest, payload: DepartmentIn):
    require(request.auth, "org.manage")
    department = services.create_department(
        actor=request.auth,
        code=payload.code,
        name=payload.name,
        parent=_resolve_parent(payload.parent_id),
        head=_resolve_head(payload.head),
    )
    return Status(201, _department_out(department))


@departments_router.patch(
    "/{department_id}", response={200: DepartmentOut, **WRITE_ERRORS}, summary="Change a department"
)
def update_department(request: HttpRequest, department_id: RecordId, payload: DepartmentPatch):
    require(request.auth, "org.manage")
    department = services.get_department(department_id)
    fields = payload.dict(exclude_unset=True)
    changes = {}
    if "name" in fields and fields["name"] is not None:
        changes["name"] = fields["name"]
    if "parent_id" in fields:
        changes["parent"] = _resolve_parent(fields["parent_id"])
    if "head" in fields:
        changes["head"] = _resolve_head(fields["head"])
    if "is_active" in fields and fields["is_active"] is not None:
        changes["is_active"] = fields["is_active"]
    try:
        department = services.update_department(department, actor=request.auth, **changes)
    except ValidationFailed as error:
        # The service names the model field; the API client sent `parent_id`.
        fields = {("parent_id" if k == "parent" else k): v for k, v in error.field_errors.items()}
        raise ValidationFailed(error.message, field_errors=fields, code=error.code) from error
    return _department_out(department)


@positions_router.get("", response={200: PositionListOut, **READ_ERRORS}, summary="List positions")
def list_positions(request: HttpRequest, q: str = _search(), limit: int = 100, offset: int = 0):
    queryset = Position.objects.all()
    if q:
        queryset = queryset.filter(Q(code__icontains=q) | Q(name__icontains=q))
    items, count = paginate(queryset.order_by("code"), limit, offset)
    return {"items": items, "count": count}


@positions_router.get(
    "/{position_id}", response={200: PositionOut, **READ_ERRORS}, summary="One position"
)
def get_position(request: HttpRequest, position_id: RecordId):
    return services.get_position(position_id)


@positions_router.post("", response={201: PositionOut, **WRITE_ERRORS}, summary="Create a position")
def create_position(request: HttpRequest, payload: PositionIn):
    return Status(
        201, services.create_position(actor=request.auth, code=payload.code, name=payload.name)
    )


@positions_router.patch(
    "/{position_id}", response={200: PositionOut, **WRITE_ERRORS}, summary="Change a position"
)
def update_position(request: HttpRequest, position_id: RecordId, payload: PositionPatch):
    position = services.get_position(position_id)
    fields = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    return services.update_position(position, actor=request.auth, **fields)
