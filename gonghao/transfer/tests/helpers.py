"""Building import files in tests: CSV in a chosen encoding, .xlsx through xlsxwriter."""

from __future__ import annotations

import csv
import io

import xlsxwriter
from python_calamine import CalamineWorkbook

CUSTOMER_HEADER_EN = ["Name*", "Level", "Source", "Owner 工号", "Phone", "E-mail", "Notes"]
CUSTOMER_HEADER_ZH = ["名称*", "级别", "来源", "负责人工号", "电话", "邮箱", "备注"]


def csv_bytes(header, rows, encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(header, rows, *, numbers: bool = False) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    sheet = workbook.add_worksheet()
    for r, row in enumerate([header, *rows]):
        for c, value in enumerate(row):
            if numbers and isinstance(value, str) and value.isdigit() and r > 0:
                sheet.write_number(r, c, int(value))
            else:
                sheet.write_string(r, c, value)
    workbook.close()
    return buffer.getvalue()


def read_xlsx(content: bytes) -> list[list]:
    return CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0).to_python()


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
