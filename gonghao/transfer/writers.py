"""Writing tables: CSV as UTF-8 with BOM (Excel in China opens it right) and .xlsx (xlsxwriter).

Every cell goes through `safe_cell`, so text like `=cmd|…` is never a formula in either format;
the xlsx writer also stores every cell as a string, never as a formula, URL or number.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator

from gonghao.core.csv_export import render_csv, safe_cell

XLSX_MAX_CELL = 32767


def write_csv(header: list[str], rows: Iterable[list[str]]) -> Iterator[bytes]:
    """The shared CSV writer's text as UTF-8 bytes, a thousand lines a chunk."""
    for chunk in render_csv(header, rows, rows_per_chunk=1000):
        yield chunk.encode("utf-8")


def write_xlsx(header: list[str], rows: Iterable[list[str]], sheet: str = "Sheet1") -> bytes:
    import xlsxwriter

    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        output,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    worksheet = workbook.add_worksheet(sheet[:31])
    bold = workbook.add_format({"bold": True})
    for column, title in enumerate(header):
        worksheet.write_string(0, column, safe_cell(title), bold)
        worksheet.set_column(column, column, max(10, min(40, len(str(title)) * 2)))
    for number, row in enumerate(rows, start=1):
        for column, value in enumerate(row):
            worksheet.write_string(number, column, safe_cell(value)[:XLSX_MAX_CELL])
    worksheet.freeze_panes(1, 0)
    workbook.close()
    return output.getvalue()
