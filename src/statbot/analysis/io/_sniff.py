"""Sniffing a delimited text file from its first bytes: encoding, delimiter, decimal, header.

Private to ``statbot.analysis.io``. Works on a bounded sample (``SAMPLE_BYTES``) so a 200 MB file
costs the same to sniff as a 2 KB one; the full parse later confirms or corrects the guess (an
encoding error further down switches to cp1252, ragged rows are counted and reported).
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass

from statbot.analysis.errors import EmptyData, HeaderRowError, UnreadableFile

SAMPLE_BYTES = 256 * 1024
SAMPLE_LINES = 200
DELIMITERS = (",", ";", "\t", "|")

_BOMS = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
_NUMBER = {
    ".": re.compile(r"^\s*[-+]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?([eE][-+]?\d+)?\s*$"),
    ",": re.compile(r"^\s*[-+]?(\d{1,3}(\.\d{3})+|\d+)?(,\d+)?([eE][-+]?\d+)?\s*$"),
}
_COMMA_DECIMAL = re.compile(r"^\s*[-+]?(\d{1,3}(\.\d{3})+|\d+),\d+\s*$")
_DOT_DECIMAL = re.compile(r"^\s*[-+]?\d*\.\d+([eE][-+]?\d+)?\s*$")
_DATE = re.compile(r"^\s*\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}([ T][\d:.]+)?\s*$")


@dataclass(frozen=True, slots=True)
class TextSniff:
    """What the sample says about a delimited text file."""

    encoding: str  # a Python codec name pyarrow can transcode from ("utf-8", "cp1252", …)
    delimiter: str
    decimal: str  # "." or ","
    header: bool
    columns: int  # fields in the first row
    newlines_in_values: bool
    has_nul: bool
    skip_rows: int = 0  # raw lines (blank ones included) above the header: a title, notes
    text_columns: tuple[str, ...] = ()  # codes with leading zeros ("02134"): read as text


def _decode_sample(sample: bytes, complete: bool) -> tuple[str, str]:
    """Return (codec, text). UTF-8 first; a cut multibyte char at the sample's end is tolerated."""
    for bom, codec in _BOMS:
        if sample.startswith(bom):
            return codec, sample.decode(codec, errors="replace")
    try:
        return "utf-8", sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if (
            not complete
            and exc.start >= len(sample) - 3
            and exc.reason.startswith("unexpected end")
        ):
            return "utf-8", sample[: exc.start].decode("utf-8")
    try:
        return "cp1252", sample.decode("cp1252")
    except UnicodeDecodeError:
        return "latin-1", sample.decode("latin-1")


def _looks_like_utf16(sample: bytes) -> str | None:
    """UTF-16 without a BOM: every other byte NUL in mostly-ASCII text."""
    if len(sample) < 8:
        return None
    odd, even = sample[1::2], sample[0::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


def _check_text(text: str) -> None:
    """Binary data has many control characters; a stray NUL in text is removed later."""
    bad = sum(1 for ch in text if ch < " " and ch not in "\t\r\n\x00")
    nul = text.count("\x00")
    if len(text) and (bad / len(text) > 0.05 or nul / len(text) > 0.3):
        raise UnreadableFile(
            "sample is mostly control bytes",
            user_message="This file does not look like a table: it contains binary data. "
            "Send a CSV, TSV, Excel (.xlsx), Parquet or JSON file.",
        )


def _rows(lines: list[str], delimiter: str) -> list[list[str]]:
    return list(csv.reader(lines, delimiter=delimiter, quotechar='"'))


def _pick_delimiter(lines: list[str]) -> str:
    best, best_score = ",", (0.0, 0)
    for delim in DELIMITERS:
        try:
            widths = [len(r) for r in _rows(lines, delim) if r]
        except csv.Error:
            continue
        if not widths:
            continue
        mode, hits = Counter(widths).most_common(1)[0]
        if mode < 2:
            continue
        score = (hits / len(widths), mode)
        if score > best_score:
            best, best_score = delim, score
    return best


def _pick_decimal(rows: list[list[str]], delimiter: str) -> str:
    if delimiter == ",":
        return "."
    commas = dots = 0
    for row in rows[1:]:
        for cell in row:
            if _COMMA_DECIMAL.match(cell):
                commas += 1
            elif _DOT_DECIMAL.match(cell):
                dots += 1
    return "," if commas > dots else "."


def _has_header(rows: list[list[str]], decimal: str) -> bool:
    """No header when every typed column (numbers, dates) has a typed value in row one too."""
    number = _NUMBER[decimal]
    if len(rows) < 2:  # one line: a header unless it holds a number
        return not any(number.match(c) and any(d.isdigit() for d in c) for c in rows[0])

    def kind(cell: str) -> str:
        cell = cell.strip()
        if not cell:
            return "empty"
        if number.match(cell) and any(c.isdigit() for c in cell):
            return "number"
        if _DATE.match(cell):
            return "date"
        return "text"

    first, body = rows[0], rows[1:]
    if not any(c.strip() for c in first):
        return True  # a header row of blank names
    typed = 0
    for j, head in enumerate(first):
        kinds = Counter(kind(r[j]) for r in body if j < len(r))
        kinds.pop("empty", None)
        if not kinds:
            continue
        major, count = kinds.most_common(1)[0]
        if major == "text" or count < 0.9 * sum(kinds.values()):
            continue
        typed += 1
        if kind(head) not in (major, "empty"):  # an empty head cell proves nothing
            return True
    return typed == 0


def preamble(rows: list[list[str]]) -> int:
    """How many leading rows are a title/notes: fewer fields than the table that follows,
    which is at least two rows of one consistent width ≥ 2. 0 when there is no such block."""
    width, hits = Counter(len(r) for r in rows).most_common(1)[0]

    def note(row: list[str]) -> bool:
        if len(row) < width:
            return True
        # "Sales report;;" — a spreadsheet's title row: one text cell, the rest empty
        filled = [c.strip() for c in row if c.strip()]
        return width >= 3 and len(filled) == 1 and not _NUMBER["."].match(filled[0])

    lead = 0
    while lead < min(len(rows), 10) and note(rows[lead]):
        lead += 1
    rest = rows[lead:]
    if not lead or width < 2 or len(rest) < 2 or hits < 0.8 * len(rest):
        return 0
    return lead


def _leading_zeros(rows: list[list[str]], header: bool) -> tuple[str, ...]:
    """Columns of whole numbers written with leading zeros (zip codes, ids): the reader would
    drop the zeros, so they are read as text. By the names the reader will give them."""
    body = rows[1:] if header else rows
    names = rows[0] if header else [f"column_{j + 1}" for j in range(len(rows[0]))]
    found: list[str] = []
    for j, name in enumerate(names):
        cells = [r[j].strip() for r in body if j < len(r) and r[j].strip()]
        if (
            cells
            and all(c.isascii() and c.isdigit() for c in cells)
            and any(len(c) > 1 and c[0] == "0" for c in cells)
            and names.count(name) == 1
        ):
            found.append(name)
    return tuple(found)


def _chosen_header(
    numbered: list[tuple[int, str]], rows: list[list[str]], header_row: int, complete: bool
) -> tuple[int, list[list[str]]]:
    """(raw lines to skip, rows from the header on) for the header the user named: row
    ``header_row`` of the file counted from 1, blank lines included (as a spreadsheet shows)."""
    if len(rows) != len(numbered):
        raise HeaderRowError(
            "cells span lines",
            user_message="This file has cells that span several lines, so I cannot count its "
            "rows to pick a header row; send it with the column names in the first row.",
        )
    if header_row == 0:
        return 0, rows
    for position, (index, _) in enumerate(numbered):
        if index == header_row - 1:
            return index, rows[position:]
        if index > header_row - 1:
            raise HeaderRowError(
                f"row {header_row} is blank",
                user_message=f"Row {header_row} of the file is empty; pick the row that holds "
                "the column names.",
            )
    last = numbered[-1][0] + 1
    raise HeaderRowError(
        f"row {header_row} past {last}",
        user_message=f"The file has {last} rows; pick a row between 1 and {last}."
        if complete
        else f"Row {header_row} is past the first {last} rows, where I look for the column "
        "names; pick one of those rows.",
    )


def sniff_text(
    sample: bytes, *, complete: bool, header_row: int | None = None
) -> tuple[TextSniff, list[str]]:
    """Sniff ``sample`` (the file's first bytes; ``complete`` when it is the whole file).

    ``header_row`` is the user's choice: the column names are in that row (counted from 1,
    blank lines included), or 0 for a file without names; None detects title lines and the
    header."""
    warnings: list[str] = []
    if not sample.strip(b" \t\r\n\xef\xbb\xbf\xff\xfe"):
        raise EmptyData("no text", user_message="The file is empty: it has no rows or columns.")
    codec16 = _looks_like_utf16(sample)
    if codec16:
        codec, text = codec16, sample.decode(codec16, errors="replace")
    else:
        codec, text = _decode_sample(sample, complete)
    _check_text(text)
    has_nul = "\x00" in text
    if codec in ("cp1252", "latin-1"):
        warnings.append(f"The file is not UTF-8; it was read as {codec.replace('cp', 'Windows-')}.")
    text = text.lstrip("\ufeff").replace("\x00", "")
    raw = text.splitlines(keepends=True)
    if not complete and len(raw) > 1:
        raw = raw[:-1]  # the last line of a partial sample may be cut
    numbered = [(i, ln) for i, ln in enumerate(raw[:SAMPLE_LINES]) if ln.strip()]
    lines = [ln for _, ln in numbered]
    if not lines:
        raise EmptyData("no lines", user_message="The file is empty: it has no rows or columns.")
    delimiter = _pick_delimiter(lines)
    try:
        rows = _rows(lines, delimiter)
    except csv.Error:
        # e.g. a field over the csv module's size limit: split naively; the real parse and
        # the cell-size limit decide what becomes of the file.
        rows = [line.rstrip("\r\n").split(delimiter) for line in lines]
    rows = [r for r in rows if r]
    newlines = any("\n" in cell or "\r" in cell for row in rows for cell in row)
    skip = 0
    if header_row is not None:
        skip, rows = _chosen_header(numbered, rows, header_row, complete)
        delimiter = _pick_delimiter(lines[len(lines) - len(rows) :])
        rows = [r for r in _rows(lines[len(lines) - len(rows) :], delimiter) if r]
    elif not newlines and len(rows) == len(numbered):
        lead = preamble(rows)
        if lead:
            skip, rows = numbered[lead][0], rows[lead:]
            warnings.append(
                f"Skipped {lead} line(s) above the table (a title or notes); the column names "
                f"are in row {skip + 1}."
            )
    decimal = _pick_decimal(rows, delimiter)
    header = _has_header(rows, decimal) if header_row is None else header_row > 0
    sniff = TextSniff(
        encoding=codec,
        delimiter=delimiter,
        decimal=decimal,
        header=header,
        # without a header the table is as wide as most rows (a title line would be shorter)
        columns=(len(rows[0]) if header else Counter(len(r) for r in rows).most_common(1)[0][0])
        if rows
        else 0,
        newlines_in_values=newlines,
        has_nul=has_nul,
        skip_rows=skip,
        text_columns=_leading_zeros(rows, header),
    )
    return sniff, warnings
