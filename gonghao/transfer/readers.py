"""Reading an uploaded table: .xlsx (python-calamine) or CSV in UTF-8, UTF-8 with BOM or GB18030.

Everything happens in memory on the bytes of the upload; the file name is only looked at for
its extension, never used as a path.
"""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from gonghao.core.errors import ValidationFailed

ZIP_MAGIC = b"PK\x03\x04"
UTF8_BOM = b"\xef\xbb\xbf"
# Bytes that never occur in a text table: a sign of a binary file passed off as CSV.
_BINARY_BYTES = bytes(range(0, 9)) + b"\x0b\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x7f"


class BadFile(ValidationFailed):
    """The file as a whole cannot be read; nothing in it is imported."""

    def __init__(self, message, *, code: str) -> None:
        super().__init__(message, code=code)


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    file_format: str
    encoding: str = ""


def extension(file_name: str) -> str:
    base = (file_name or "").replace("\\", "/").rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[-1].lower() if "." in base else ""


def read_table(file_name: str, content: bytes) -> Table:
    """Header and rows as text; BadFile with a clear code when the file cannot be a table."""
    if not content:
        raise BadFile(_("The file is empty."), code="empty_file")
    if len(content) > settings.GONGHAO_IMPORT_MAX_BYTES:
        raise BadFile(
            _("The file is larger than %(mb)d MB.")
            % {"mb": settings.GONGHAO_IMPORT_MAX_BYTES // (1024 * 1024)},
            code="file_too_large",
        )
    ext = extension(file_name)
    if content.startswith(ZIP_MAGIC):
        table = _read_xlsx(content)
    elif ext in ("xlsx", "xlsm", "xls"):
        raise BadFile(
            _("This is not an Excel .xlsx file (it may be damaged or renamed)."),
            code="not_xlsx",
        )
    else:
        table = _read_csv(content)
    while table.rows and not any(table.rows[-1]):
        table.rows.pop()
    if not any(table.header):
        raise BadFile(_("The first row must hold the column titles."), code="no_header")
    if len(table.rows) > settings.GONGHAO_IMPORT_MAX_ROWS:
        raise BadFile(
            _("The file has more than %(n)d rows; split it into smaller files.")
            % {"n": settings.GONGHAO_IMPORT_MAX_ROWS},
            code="too_many_rows",
        )
    return table


def decode_text(content: bytes) -> tuple[str, str]:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK); refuse anything else."""
    if content.startswith(UTF8_BOM):
        candidates = [("utf-8-sig", "utf-8-sig")]
    else:
        candidates = [("utf-8", "utf-8"), ("gb18030", "gbk")]
    head = content[:65536]
    if any(b in head for b in _BINARY_BYTES):
        raise BadFile(
            _("This file is not a CSV text file. Save it as CSV (UTF-8) or Excel .xlsx."),
            code="not_text",
        )
    for codec, label in candidates:
        try:
            return content.decode(codec), label
        except UnicodeDecodeError:
            continue
    raise BadFile(
        _("The file's text encoding is not UTF-8 or GBK. Save it as CSV (UTF-8) or Excel .xlsx."),
        code="bad_encoding",
    )


def _read_csv(content: bytes) -> Table:
    text, encoding = decode_text(content)
    if any(b in text for b in ("\x00",)):
        raise BadFile(_("This file is not a CSV text file."), code="not_text")
    try:
        sample = text[:4096]
        delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error:
        raise BadFile(_("The CSV file is malformed (check its quotes)."), code="bad_csv")
    if not rows:
        raise BadFile(_("The file is empty."), code="empty_file")
    return Table(header=rows[0], rows=rows[1:], file_format="csv", encoding=encoding)


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        # Excel stores typed phone numbers as numbers: 13812345678.0 is the text 13812345678.
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


def _read_xlsx(content: bytes) -> Table:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(content))
        if not workbook.sheet_names:
            raise BadFile(_("The workbook has no sheet."), code="empty_file")
        sheet = workbook.get_sheet_by_index(0)
        limit = settings.GONGHAO_IMPORT_MAX_ROWS + 2
        data = sheet.to_python(skip_empty_area=False, nrows=limit)
    except BadFile:
        raise
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:
        # calamine raises its own errors (and zip / XML ones) for damaged workbooks, and a
        # panic in its Rust code arrives as pyo3's PanicException, a BaseException.
        raise BadFile(
            _("This is not an Excel .xlsx file (it may be damaged or renamed)."),
            code="not_xlsx",
        )
    if not data:
        raise BadFile(_("The file is empty."), code="empty_file")
    rows = [[_cell_text(v) for v in row] for row in data]
    return Table(header=rows[0], rows=rows[1:], file_format="xlsx")


def read_limit_error() -> BadFile:
    return BadFile(
        _("The file is larger than %(mb)d MB.")
        % {"mb": settings.GONGHAO_IMPORT_MAX_BYTES // (1024 * 1024)},
        code="file_too_large",
    )
