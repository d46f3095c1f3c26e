"""Excel workbooks (.xlsx/.xlsm) through openpyxl, after a zip-bomb check.

Private to ``statbot.analysis.io``. An .xlsx is a zip of XML parts; openpyxl would inflate them
without bound, so the central directory is checked first: the declared uncompressed total against
``max_excel_uncompressed_mb`` and each member's compression ratio against
``max_compression_ratio``. ``zipfile`` stops inflating a member at its declared size, so a lying
directory cannot smuggle more bytes past the check.
"""

from __future__ import annotations

import io
import logging
import zipfile
from typing import Any

import pyarrow as pa

from statbot.analysis.errors import EmptyData, HeaderRowError, LimitExceeded, UnreadableFile
from statbot.analysis.io._pyrows import columns_to_table
from statbot.analysis.io._sniff import preamble as _preamble
from statbot.analysis.io.limits import DataLimits

log = logging.getLogger(__name__)

_NOT_XLSX = (
    "This file is not a readable Excel workbook (.xlsx). If it is an old .xls or a "
    "password-protected workbook, save it as .xlsx or CSV and send it again."
)


def check_zip(data: bytes, limits: DataLimits) -> None:
    """Refuse archives that would inflate past the limits, before anything is decompressed."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise UnreadableFile(f"xlsx: bad zip: {exc}", user_message=_NOT_XLSX) from exc
    total = sum(m.file_size for m in members)
    limit = limits.max_excel_uncompressed_mb * 1024 * 1024
    if total > limit:
        raise LimitExceeded(
            "max_excel_uncompressed_mb",
            limits.max_excel_uncompressed_mb,
            total / 1024 / 1024,
            unit="MB",
            what="The workbook unpacks to",
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > 1024 * 1024 and ratio > limits.max_compression_ratio:
            raise LimitExceeded(
                "max_compression_ratio",
                limits.max_compression_ratio,
                ratio,
                unit="×",
                what=f"The workbook part '{member.filename[:60]}' inflates to",
                note="Such files are refused as possible zip bombs.",
            )
    names = {m.filename for m in members}
    if "xl/workbook.xml" not in names:
        raise UnreadableFile("xlsx: no xl/workbook.xml", user_message=_NOT_XLSX)


Row = tuple[int, list[Any]]  # (row number in the sheet, from 1; the cells)


def _trim(rows: list[list[Any]]) -> list[Row]:
    """Drop fully empty rows (keeping each row's number) and trailing empty columns (Excel's
    formatted-but-empty cells)."""
    kept = [
        (i, r) for i, r in enumerate(rows, start=1) if any(v is not None and v != "" for v in r)
    ]
    width = 0
    for _, r in kept:
        for j in range(len(r) - 1, -1, -1):
            if r[j] is not None and r[j] != "":
                width = max(width, j + 1)
                break
    return [(i, list(r[:width]) + [None] * (width - len(r[:width]))) for i, r in kept]


def _as_text_row(row: list[Any]) -> list[str]:
    """A row as the CSV sniffer sees one: cells as text, trailing empty cells cut off."""
    cells = ["" if v is None else str(v) for v in row]
    while cells and not cells[-1].strip():
        cells.pop()
    return cells


def _start(rows: list[Row], header_row: int | None, warnings: list[str]) -> int:
    """Index in ``rows`` where the table starts: after the title rows, or at the user's row."""
    if header_row is not None:
        for position, (number, _) in enumerate(rows):
            if number == header_row:
                return position
        past = header_row > rows[-1][0]
        raise HeaderRowError(
            f"row {header_row} {'past the end' if past else 'empty'}",
            user_message=(
                f"The sheet has {rows[-1][0]} rows; pick a row between 1 and {rows[-1][0]}."
                if past
                else f"Row {header_row} of the sheet is empty; pick the row that holds the "
                "column names."
            ),
        )
    lead = _preamble([_as_text_row(r) or [""] for _, r in rows])
    if lead:
        warnings.append(
            f"Skipped {lead} row(s) above the table (a title or notes); the column names are "
            f"in row {rows[lead][0]}."
        )
    return lead


def read_xlsx(
    data: bytes, limits: DataLimits, warnings: list[str], header_row: int | None = None
) -> tuple[pa.Table, str, int | None]:
    """Return (raw table, sheet name, the header's row number or None) of the first worksheet.

    ``header_row`` as in :func:`statbot.analysis.io.load_bytes`: the user's choice (0: no
    header), or None to skip title rows and detect the header."""
    check_zip(data, limits)
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types on hostile input; translate them all
        log.info("openpyxl refused workbook: %r", exc)
        raise UnreadableFile(f"xlsx: {exc!r}", user_message=_NOT_XLSX) from exc
    try:
        sheets = book.worksheets
        if not sheets:
            raise EmptyData("xlsx: no sheets", user_message="The workbook has no worksheets.")
        sheet = sheets[0]
        if len(sheets) > 1:
            warnings.append(
                f"The workbook has {len(sheets)} sheets; only the first, '{sheet.title}', was read."
            )
        rows: list[list[Any]] = []
        for row in sheet.iter_rows(values_only=True):
            if len(row) > limits.max_columns:
                raise LimitExceeded("max_columns", limits.max_columns, len(row), unit="columns")
            rows.append(list(row))
            if len(rows) > limits.max_rows + 1:
                raise LimitExceeded(
                    "max_rows", limits.max_rows, max(sheet.max_row or 0, len(rows)) - 1, unit="rows"
                )
    except (LimitExceeded, EmptyData):
        raise
    except Exception as exc:  # malformed sheet XML surfaces while iterating
        log.info("openpyxl failed reading rows: %r", exc)
        raise UnreadableFile(f"xlsx rows: {exc!r}", user_message=_NOT_XLSX) from exc
    finally:
        book.close()
    numbered = _trim(rows)
    if not numbered:
        raise EmptyData("xlsx: empty sheet", user_message=f"The sheet '{sheet.title}' is empty.")
    if header_row == 0:
        start, header = 0, False
    else:
        start = _start(numbered, header_row, warnings)
        first = numbered[start][1]
        header = header_row is not None or (
            all(isinstance(v, str) or v is None for v in first)
            and any(isinstance(v, str) for v in first)
        )
    table = [r for _, r in numbered[start:]]
    body = table[1:] if header else table
    width = len(table[0])
    names: list[Any] = list(table[0]) if header else [f"column_{j + 1}" for j in range(width)]
    columns = [[r[j] for r in body] for j in range(width)]
    found = numbered[start][0] if header else None
    return columns_to_table(names, columns, warnings), sheet.title, found
