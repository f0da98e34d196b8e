"""Imports: upload → validate every row → preview → all-or-nothing commit, audited once."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext as _

from gonghao.access.services import require
from gonghao.audit.services import record
from gonghao.core import clock
from gonghao.core.errors import Conflict, NotFound, ValidationFailed

from . import audit_actions
from .columns import COLUMNS, EXAMPLES
from .errors import error, presented
from .importers import IMPORTERS, RowFailed, Validated, is_blank, link_records, map_header
from .models import ImportBatch, ImportedRecord, ImportKind, ImportStatus
from .readers import read_table
from .writers import write_csv, write_xlsx

PREVIEW_ROWS = 20
Progress = Callable[[int, int], None]


def _no_progress(processed: int, total: int) -> None:
    return None


def safe_file_name(name: str) -> str:
    """The upload's base name for display only: no directories, no control characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip(" .")
    return base[:255] or "upload"


def _kind(kind: str) -> str:
    if kind not in ImportKind.values:
        raise ValidationFailed(
            field_errors={
                "kind": [_("Choose one of: %(v)s") % {"v": ", ".join(ImportKind.values)}]
            },
            code="unknown_kind",
        )
    return kind


def get_import_for(actor: Any, batch_id: int) -> ImportBatch:
    """One of the actor's own import batches (another's is not found: uploads are private)."""
    batch = ImportBatch.objects.filter(pk=batch_id, created_by_id=actor.pk).defer("content")
    found = batch.first()
    if found is None:
        raise NotFound(code="import_not_found")
    return found


def imports_of(actor: Any):
    return ImportBatch.objects.filter(created_by_id=actor.pk).defer("content", "errors", "preview")


def _validate(batch: ImportBatch, actor: Any, content: bytes, progress: Progress) -> Validated:
    table = read_table(batch.file_name, content)
    batch.file_format = table.file_format
    batch.encoding = table.encoding
    batch.total = sum(1 for row in table.rows if not is_blank(row))
    positions, header_errors = map_header(batch.kind, table.header)
    batch.columns = [c.key for c in COLUMNS[batch.kind] if c.key in positions]
    batch.preview = [
        [row[positions[key]] if positions[key] < len(row) else "" for key in batch.columns]
        for row in table.rows[:PREVIEW_ROWS]
    ]
    if header_errors:
        return Validated(rows=[None] * batch.total, errors=header_errors, total=batch.total)
    if not batch.total:
        return Validated(errors=[error(2, "", "no_rows")], total=0)

    def report(processed: int) -> None:
        progress(processed, batch.total)
        if batch.pk:
            ImportBatch.objects.filter(pk=batch.pk).update(processed=processed)

    validated = IMPORTERS[batch.kind].validate(actor, table.rows, positions, report)
    progress(batch.total, batch.total)
    return validated


def create_import(
    *,
    actor: Any,
    kind: str,
    file_name: str,
    content: bytes,
    progress: Progress = _no_progress,
) -> ImportBatch:
    """Read and check the file; keep it with its preview and every row-level error.

    A file that cannot be read at all (not a table, wrong encoding, too large) raises and
    leaves nothing behind.
    """
    batch, _validated = _create(actor, kind, file_name, content, progress)
    return batch


def _create(actor, kind, file_name, content, progress) -> tuple[ImportBatch, Validated]:
    require(actor, IMPORTERS[_kind(kind)].permission)
    batch = ImportBatch(
        kind=kind,
        file_name=safe_file_name(file_name),
        size=len(content or b""),
        created_by=actor,
        created_at=clock.now(),
        status=ImportStatus.VALIDATING,
    )
    validated = _validate(batch, actor, content, progress)
    _store_outcome(batch, validated)
    batch.content = content
    batch.save()
    return batch, validated


def _store_outcome(batch: ImportBatch, validated: Validated) -> None:
    batch.valid = validated.valid
    batch.errors = validated.errors
    batch.processed = batch.total
    batch.status = ImportStatus.INVALID if validated.errors else ImportStatus.PREVIEW


def _claim(batch: ImportBatch) -> None:
    """Move the batch from preview to committing, once: a second commit finds it taken."""
    claimed = ImportBatch.objects.filter(pk=batch.pk, status=ImportStatus.PREVIEW).update(
        status=ImportStatus.COMMITTING, processed=0
    )
    if claimed:
        batch.status = ImportStatus.COMMITTING
        return
    current = ImportBatch.objects.values_list("status", flat=True).get(pk=batch.pk)
    if current in (ImportStatus.COMMITTED, ImportStatus.COMMITTING):
        raise Conflict(_("This file has already been imported."), code="import_committed")
    raise Conflict(
        _("The file has errors; correct them and upload it again."), code="import_has_errors"
    )


def _release(batch: ImportBatch) -> None:
    ImportBatch.objects.filter(pk=batch.pk, status=ImportStatus.COMMITTING).update(
        status=ImportStatus.PREVIEW
    )


def commit_import(batch_id: int, *, actor: Any, progress: Progress = _no_progress) -> ImportBatch:
    """Import every row or none. The file is checked again, with progress the page can poll:
    the data may have changed since the preview (a duplicate created meanwhile is refused)."""
    batch = get_import_for(actor, batch_id)
    require(actor, IMPORTERS[batch.kind].permission)
    _claim(batch)
    try:
        content = bytes(ImportBatch.objects.values_list("content", flat=True).get(pk=batch.pk))
        validated = _validate(batch, actor, content, progress)
    except BaseException:
        _release(batch)
        raise
    if validated.errors:
        _store_outcome(batch, validated)
        batch.save(update_fields=["status", "errors", "valid", "processed", "total"])
        raise Conflict(
            _("The file has errors; correct them and upload it again."), code="import_has_errors"
        )
    return _commit(batch, actor, validated, progress)


def _commit(batch: ImportBatch, actor: Any, validated: Validated, progress: Progress):
    rows = [r for r in validated.rows if r is not None]
    try:
        with transaction.atomic():
            locked = ImportBatch.objects.select_for_update().defer("content").get(pk=batch.pk)
            if locked.status != ImportStatus.COMMITTING:
                raise Conflict(_("This file has already been imported."), code="import_committed")
            ids = IMPORTERS[batch.kind].write(actor, rows)
            kind = batch.kind.rstrip("s")
            link_records(batch.pk, kind, ids)
            locked.status = ImportStatus.COMMITTED
            locked.created_count = len(ids)
            locked.processed = locked.total
            locked.committed_at = clock.now()
            locked.save(update_fields=["status", "created_count", "processed", "committed_at"])
            record(
                audit_actions.IMPORT_COMMIT,
                actor=actor,
                target=locked,
                target_label=f"#{locked.pk} {locked.file_name}",
                params={
                    "kind": batch.kind,
                    "created": len(ids),
                    "file": locked.file_name,
                    "batch": locked.pk,
                },
                changes={
                    "rows": [None, locked.total],
                    "created": [None, len(ids)],
                    "format": [None, locked.file_format],
                },
            )
    except RowFailed as failure:
        _reopen(batch, failure)
        detail = getattr(failure.failure, "message", str(failure.failure))
        raise Conflict(
            _("Row %(row)s could not be imported: %(detail)s; nothing was imported.")
            % {"row": failure.row, "detail": detail},
            code="import_failed",
            details={"row": failure.row},
        )
    except BaseException:
        _release(batch)
        raise
    progress(batch.total, batch.total)
    batch.refresh_from_db(fields=["status", "created_count", "processed", "committed_at"])
    return batch


def _reopen(batch: ImportBatch, failure: RowFailed) -> None:
    detail = str(getattr(failure.failure, "message", failure.failure))
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportStatus.INVALID,
        errors=[error(failure.row, "", "commit_failed", detail=detail)],
    )


def import_file(
    *,
    actor: Any,
    kind: str,
    file_name: str,
    content: bytes,
    commit: bool,
    progress: Progress = _no_progress,
) -> ImportBatch:
    """Validate and, if asked and clean, commit in one go (the command line's path)."""
    batch, validated = _create(actor, kind, file_name, content, progress)
    if commit and not validated.errors:
        _claim(batch)
        return _commit(batch, actor, validated, progress)
    return batch


def batch_summary(batch: ImportBatch) -> dict[str, Any]:
    return {
        "id": batch.pk,
        "kind": batch.kind,
        "status": batch.status,
        "file_name": batch.file_name,
        "format": batch.file_format,
        "encoding": batch.encoding,
        "total": batch.total,
        "valid": batch.valid,
        "processed": batch.processed,
        "created": batch.created_count,
        "columns": batch.columns,
        "preview": batch.preview,
        "errors": presented(batch.errors),
        "created_at": batch.created_at,
        "committed_at": batch.committed_at,
    }


def import_batch_of(kind: str) -> Subquery:
    """The import batch that created each row of a query over `kind` ("customer", "contact"),
    as an annotation: the record's page reads it with the record, in the same query."""
    return Subquery(
        ImportedRecord.objects.filter(kind=kind, object_id=OuterRef("pk")).values("batch_id")[:1]
    )


def batch_of_record(kind: str, object_id: int) -> int | None:
    """The import batch that created a record, if any (for "imported by batch N")."""
    return (
        ImportedRecord.objects.filter(kind=kind, object_id=object_id)
        .values_list("batch_id", flat=True)
        .first()
    )


# --- templates ---------------------------------------------------------------------------------


def template_file(kind: str, file_format: str, language: str) -> tuple[bytes, str, str]:
    """An empty import file with the column titles in `language` and one example row."""
    columns = COLUMNS[_kind(kind)]
    header = [c.title(language) for c in columns]
    example = [EXAMPLES[kind].get(c.key, "") for c in columns]
    if file_format == "xlsx":
        return write_xlsx(header, [example]), XLSX_TYPE, f"{kind}-template.xlsx"
    if file_format == "csv":
        return b"".join(write_csv(header, [example])), CSV_TYPE, f"{kind}-template.csv"
    raise ValidationFailed(field_errors={"format": ["csv, xlsx"]}, code="unknown_format")


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"
