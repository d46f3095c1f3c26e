"""The first rows of a file as it is written, for the user to point at the row that holds the
column names (issue 11: "the user may pick the header row").

Private to ``statbot.analysis.io``. Rows are numbered from 1 as a spreadsheet or an editor shows
them, blank lines included (the numbering ``header_row=`` counts in), and only non-blank rows are
returned. Formats that name their columns themselves (Parquet, JSON) have no rows to pick.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from statbot.analysis.io.limits import DataLimits

PEEK_BYTES = 64 * 1024


def peek_rows(path: Path, limits: DataLimits, rows: int = 8) -> list[tuple[int, list[str]]]:
    """(row number, cells as text) of the first ``rows`` non-blank rows of a CSV-like file or
    the first sheet of a workbook; [] for a format without rows to pick."""
    from statbot.analysis.io import detect_format

    with path.open("rb") as handle:
        head = handle.read(PEEK_BYTES)
    fmt = detect_format(head, path.name)
    if fmt == "excel":
        return _sheet_rows(path, limits, rows)
    if fmt != "csv":
        return []
    from statbot.analysis.io._sniff import sniff_text

    sniff, _ = sniff_text(head, complete=path.stat().st_size <= len(head))
    text = head.decode(sniff.encoding, errors="replace").lstrip("\ufeff").replace("\x00", "")
    lines = text.splitlines()
    if len(head) == PEEK_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line of a partial sample may be cut
    numbered = [(i, ln) for i, ln in enumerate(lines, start=1) if ln.strip()][:rows]
    return [(number, _cells(line, sniff.delimiter)) for number, line in numbered]


def _cells(line: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delimiter, quotechar='"'), [])
    except csv.Error:
        return line.split(delimiter)


def _sheet_rows(path: Path, limits: DataLimits, rows: int) -> list[tuple[int, list[str]]]:
    from statbot.analysis.io._excel import check_zip

    data = path.read_bytes()
    check_zip(data, limits)
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        found: list[tuple[int, list[str]]] = []
        if not book.worksheets:
            return found
        for number, row in enumerate(book.worksheets[0].iter_rows(values_only=True), start=1):
            cells = ["" if v is None else str(v) for v in row]
            while cells and not cells[-1].strip():
                cells.pop()
            if cells:
                found.append((number, cells))
            if len(found) >= rows or number >= 200:
                break
        return found
    finally:
        book.close()


def row_label(number: int, cells: list[str], width: int = 48) -> str:
    """A row as a button shows it: ``3: name, price, city``, cut to ``width`` characters."""
    text = ", ".join(c.strip() for c in cells if c.strip()) or "(empty)"
    label = f"{number}: {text}"
    return label if len(label) <= width else label[: width - 1].rstrip() + "…"
