"""Imports and exports in the API: upload → preview → commit; templates; exports by kind."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.translation import get_language
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from gonghao.access.services import require
from gonghao.accounts.services import InvalidEmployeeId, find_employee
from gonghao.accounts.stepup import require_step_up
from gonghao.core.api_support import READ_ERRORS, WRITE_ERRORS, RecordId
from gonghao.core.errors import NotFound, ValidationFailed
from gonghao.crm.queries import CustomerFilter

from . import services
from .exports import export_table
from .importers import IMPORTERS

imports_router = Router()
exports_router = Router()


class ImportErrorOut(Schema):
    row: int
    column: str
    code: str
    message: str


class ImportOut(Schema):
    id: int
    kind: str
    status: str
    file_name: str
    format: str
    encoding: str
    total: int
    valid: int
    processed: int
    created: int
    columns: list[str]
    preview: list[list[str]]
    errors: list[ImportErrorOut]


class ImportProgressOut(Schema):
    id: int
    status: str
    processed: int
    total: int
    created: int


def read_upload(upload: UploadedFile) -> bytes:
    """The upload's bytes, refusing early (without reading it all) when it is too large."""
    from django.conf import settings

    from .readers import read_limit_error

    if upload.size is not None and upload.size > settings.GONGHAO_IMPORT_MAX_BYTES:
        raise read_limit_error()
    return upload.read(settings.GONGHAO_IMPORT_MAX_BYTES + 1)


@imports_router.post(
    "",
    response={201: ImportOut, **WRITE_ERRORS},
    summary="Upload a .csv or .xlsx file to import; every row is checked (preview, no changes)",
)
def upload_import(request: HttpRequest, kind: Form[str], file: File[UploadedFile]):
    content = read_upload(file)
    batch = services.create_import(
        actor=request.auth, kind=kind, file_name=file.name or "", content=content
    )
    return Status(201, services.batch_summary(batch))


@imports_router.get(
    "/templates/{kind}",
    response={200: None, **READ_ERRORS},
    summary="An empty import file with the column titles in your language (csv or xlsx)",
)
def import_template(request: HttpRequest, kind: str, format: str = Query("xlsx", max_length=4)):
    if kind in IMPORTERS:  # as on the page: only those who may import this kind
        require(request.auth, IMPORTERS[kind].permission)
    content, content_type, name = services.template_file(kind, format, get_language() or "en")
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@imports_router.get(
    "/{import_id}",
    response={200: ImportOut, **READ_ERRORS},
    summary="One of your imports: status, progress (processed / total), preview and errors",
)
def get_import(request: HttpRequest, import_id: RecordId):
    return services.batch_summary(services.get_import_for(request.auth, import_id))


@imports_router.get(
    "/{import_id}/progress",
    response={200: ImportProgressOut, **READ_ERRORS},
    summary="How far an import is: rows processed of the total",
)
def import_progress(request: HttpRequest, import_id: RecordId):
    batch = services.get_import_for(request.auth, import_id)
    return {
        "id": batch.pk,
        "status": batch.status,
        "processed": batch.processed,
        "total": batch.total,
        "created": batch.created_count,
    }


@imports_router.post(
    "/{import_id}/commit",
    response={200: ImportOut, **WRITE_ERRORS},
    summary="Import every row of a checked file, or none (refused while errors remain)",
)
def commit_import(request: HttpRequest, import_id: RecordId):
    batch = services.commit_import(import_id, actor=request.auth)
    return services.batch_summary(batch)


def customer_filter(q: str, status: str, level: str, source: str, owner: str) -> CustomerFilter:
    owner_id = None
    if owner:
        try:
            owner_id = find_employee(owner).pk
        except (InvalidEmployeeId, NotFound) as error:
            raise ValidationFailed(field_errors={"owner": [str(error.message)]})
    return CustomerFilter(q=q, status=status, level=level, source=source, owner_id=owner_id)


@exports_router.get(
    "/{kind}",
    response={200: None, **READ_ERRORS},
    summary="Export customers, contacts, interactions or opportunities in your scope (csv, xlsx)",
)
def export(
    request: HttpRequest,
    kind: str,
    format: str = Query("csv", max_length=4),
    q: str = Query("", max_length=100),
    status: str = Query("", max_length=10),
    level: str = Query("", max_length=2),
    source: str = Query("", max_length=20),
    owner: str = Query("", max_length=64, description="owner's 工号"),
) -> Any:
    filters = customer_filter(q, status, level, source, owner)
    require_step_up(request, "export.run", permission="customer.export")
    result = export_table(request.auth, kind, filters, format)
    response = StreamingHttpResponse(result.chunks(), content_type=result.content_type)
    response["Content-Disposition"] = f'attachment; filename="{result.file_name}"'
    return response
