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

from statbot.analysis.errors import EmptyData, LimitExceeded, UnreadableFile
from statbot.analysis.io._pyrows import columns_to_table
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


def _trim(rows: list[list[Any]]) -> list[list[Any]]:
    """Drop fully empty rows and trailing empty columns (Excel's formatted-but-empty cells)."""
    rows = [r for r in rows if any(v is not None and v != "" for v in r)]
    width = 0
    for r in rows:
        for j in range(len(r) - 1, -1, -1):
            if r[j] is not None and r[j] != "":
                width = max(width, j + 1)
                break
    return [list(r[:width]) + [None] * (width - len(r[:width])) for r in rows]


def read_xlsx(data: bytes, limits: DataLimits, warnings: list[str]) -> tuple[pa.Table, str]:
    """Return (raw table, sheet name) of the first worksheet."""
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
    rows = _trim(rows)
    if not rows:
        raise EmptyData("xlsx: empty sheet", user_message=f"The sheet '{sheet.title}' is empty.")
    first = rows[0]
    header = all(isinstance(v, str) or v is None for v in first) and any(
        isinstance(v, str) for v in first
    )
    body = rows[1:] if header else rows
    names: list[Any] = list(first) if header else [f"column_{j + 1}" for j in range(len(first))]
    columns = [[r[j] for r in body] for j in range(len(names))]
    return columns_to_table(names, columns, warnings), sheet.title
