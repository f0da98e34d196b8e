"""Customers API: scoped lists and search, detail, writes, transfer, reveal, CSV export."""

from __future__ import annotations

from django.http import HttpRequest, StreamingHttpResponse
from ninja import Query, Router, Status

from gonghao.accounts.services import InvalidEmployeeId, find_employee
from gonghao.accounts.stepup import require_step_up
from gonghao.core.api_support import READ_ERRORS, WRITE_ERRORS, RecordId, paginate_capped
from gonghao.core.errors import NotFound, ValidationFailed
from gonghao.core.pagination import search_count_cap
from gonghao.transfer.services import import_batch_of

from . import permissions as perms
from . import services
from .exports import export_rows, render_csv
from .models import Customer
from .queries import (
    CustomerFilter,
    get_customer_for,
    listed_customers,
    present,
    sort_for,
)
from .schemas import (
    CustomerDetailOut,
    CustomerIn,
    CustomerListOut,
    CustomerOut,
    CustomerPatch,
    RevealIn,
    RevealOut,
    TransferIn,
)

# Fields a role hides are left out of each item (not sent as null): exclude_unset.
router = Router(exclude_unset=True)


def customer_out(customer: Customer, actor) -> dict:
    data = present(customer, actor)
    data.update(
        id=customer.pk,
        owner=(
            {"employee_id": customer.owner.employee_id, "name": customer.owner.name}
            if customer.owner_id
            else None
        ),
        owner_department_id=customer.owner_department_id,
        created_at=customer.created_at,
        updated_at=customer.updated_at,
        deleted_at=customer.deleted_at,
    )
    return data


def _employee_field(raw: str, field: str):
    try:
        return find_employee(raw)
    except (InvalidEmployeeId, NotFound) as error:
        raise ValidationFailed(field_errors={field: [str(error.message)]})


def _filters(q, status, level, source, kind, owner, department_id, tag, sort, deleted, shared=""):
    owner_id = None
    if owner:
        owner_id = _employee_field(owner, "owner").pk
    return CustomerFilter(
        q=q,
        status=status,
        level=level,
        source=source,
        kind=kind,
        owner_id=owner_id,
        department_id=department_id,
        tag=tag,
        sort=sort,
        deleted=deleted,
        shared=shared,
    )


@router.get(
    "",
    response={200: CustomerListOut, **READ_ERRORS},
    summary="List and search the customers in your scope",
)
def list_customers(
    request: HttpRequest,
    q: str = Query("", max_length=100, description="name, phone digits or e-mail"),
    status: str = Query("", max_length=10),
    level: str = Query("", max_length=2),
    source: str = Query("", max_length=20),
    kind: str = Query("", max_length=10),
    owner: str = Query("", max_length=64, description="owner's 工号"),
    department_id: RecordId | None = None,
    tag: str = Query("", max_length=50),
    sort: str = Query(
        "",
        max_length=10,
        description=(
            "-updated, -added (newest record first), name, -name, created, -created, level;"
            " by default -updated, and -added for a search (q): see `sort` in the answer"
        ),
    ),
    deleted: bool = Query(False, description="deleted customers (restore permission)"),
    shared: str = Query("", max_length=10, description="with_me: only customers shared with you"),
    limit: int = 50,
    offset: int = 0,
):
    filters = _filters(
        q, status, level, source, kind, owner, department_id, tag, sort, deleted, shared
    )
    # A search counts its matches up to a cap; an unsearched list keeps its exact count.
    cap = search_count_cap(filters.q)
    items, count, capped = paginate_capped(
        listed_customers(request.auth, filters), limit, offset, cap
    )
    return {
        "items": [customer_out(c, request.auth) for c in items],
        "count": count,
        "count_capped": capped,
        "sort": sort_for(request.auth, filters),
    }


@router.get(
    "/export.csv",
    response={200: None, **READ_ERRORS},
    summary="Export the customers in your scope as CSV (UTF-8 with BOM)",
)
def export_customers(
    request: HttpRequest,
    q: str = Query("", max_length=100),
    status: str = Query("", max_length=10),
    level: str = Query("", max_length=2),
    owner: str = Query("", max_length=64),
):
    filters = _filters(q, status, level, "", "", owner, None, "", "-updated", False)
    require_step_up(request, "customer.export", permission=perms.EXPORT)
    header, rows = export_rows(request.auth, filters)
    response = StreamingHttpResponse(
        render_csv(header, rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="customers.csv"'
    return response


@router.post("", response={201: CustomerOut, **WRITE_ERRORS}, summary="Create a customer")
def create_customer(request: HttpRequest, payload: CustomerIn):
    data = payload.dict(exclude={"owner"})
    owner = _employee_field(payload.owner, "owner") if payload.owner else None
    customer = services.create_customer(actor=request.auth, data=data, owner=owner)
    return Status(201, customer_out(customer, request.auth))


@router.get(
    "/{customer_id}",
    response={200: CustomerDetailOut, **READ_ERRORS},
    summary="One customer (masked as your permissions say; the read is audited)",
)
def get_customer(request: HttpRequest, customer_id: RecordId):
    customer = get_customer_for(
        request.auth, customer_id, annotations={"import_batch_id": import_batch_of("customer")}
    )
    services.record_view(customer, actor=request.auth)
    return {**customer_out(customer, request.auth), "import_batch": customer.import_batch_id}


@router.patch(
    "/{customer_id}", response={200: CustomerOut, **WRITE_ERRORS}, summary="Change a customer"
)
def update_customer(request: HttpRequest, customer_id: RecordId, payload: CustomerPatch):
    data = {k: v for k, v in payload.dict(exclude_unset=True).items()}
    customer = services.update_customer(customer_id, actor=request.auth, data=data)
    return customer_out(customer, request.auth)


@router.delete(
    "/{customer_id}",
    response={204: None, **WRITE_ERRORS},
    summary="Delete a customer (soft; an administrator can restore it)",
)
def delete_customer(request: HttpRequest, customer_id: RecordId):
    services.delete_customer(customer_id, actor=request.auth)
    return Status(204, None)


@router.post(
    "/{customer_id}/restore",
    response={200: CustomerOut, **WRITE_ERRORS},
    summary="Restore a deleted customer",
)
def restore_customer(request: HttpRequest, customer_id: RecordId):
    customer = services.restore_customer(customer_id, actor=request.auth)
    return customer_out(customer, request.auth)


@router.post(
    "/{customer_id}/transfer",
    response={200: CustomerOut, **WRITE_ERRORS},
    summary="Give a customer to another owner",
)
def transfer_customer(request: HttpRequest, customer_id: RecordId, payload: TransferIn):
    new_owner = _employee_field(payload.owner, "owner")
    require_step_up(request, "customer.transfer", permission=perms.TRANSFER)
    customer = services.transfer_customer(customer_id, actor=request.auth, new_owner=new_owner)
    return customer_out(customer, request.auth)


@router.post(
    "/{customer_id}/reveal",
    response={200: RevealOut, **WRITE_ERRORS},
    summary="Reveal masked personal data (audited)",
)
def reveal(request: HttpRequest, customer_id: RecordId, payload: RevealIn):
    require_step_up(request, "customer.reveal", permission=perms.VIEW_SENSITIVE)
    values = services.reveal_fields(customer_id, actor=request.auth, fields=payload.fields)
    return {"values": values}
