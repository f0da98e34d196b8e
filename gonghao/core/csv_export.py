"""CSV for Excel in China, the one way every export writes it: UTF-8 with a BOM (Excel reads
BOM-less UTF-8 as GBK) and every cell neutralised so it can never run as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from itertools import chain
from typing import Any

BOM = "\ufeff"
# What a spreadsheet takes for the start of a formula (tab and CR: Excel skips them first).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """Neutralise spreadsheet formulas (=cmd|…) so an exported cell can never execute."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def render_csv(
    header: Iterable[Any], rows: Iterable[Iterable[Any]], *, rows_per_chunk: int = 1
) -> Iterator[str]:
    """The BOM, then the header and the rows, every cell through `safe_cell`, in chunks of
    `rows_per_chunk` lines for a streaming answer ("".join them for the whole text)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield BOM
    for count, row in enumerate(chain([header], rows), start=1):
        writer.writerow([safe_cell(cell) for cell in row])
        if count % rows_per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate(0)
    if buffer.tell():
        yield buffer.getvalue()
