"""Typing text columns: numbers with separators, unambiguous dates, cell limits, formula cells.

Private to ``statbot.analysis.io`` (called by ``_io_clean.finish`` for every text column). Each
check first looks at the column's first few thousand values and skips the full scan when those
already rule the conversion out, so a 3-million-row text column costs milliseconds, not seconds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from statbot.analysis.errors import LimitExceeded
from statbot.analysis.io._numbers import to_number

if TYPE_CHECKING:
    from statbot.analysis.io.limits import DataLimits

_FORMULA_CELL = r"^([=+@\t\r]|-[^0-9.]|-$)"
_DMY = (
    r"^\s*(?P<p1>\d{1,2})[/.-](?P<p2>\d{1,2})[/.-](?P<y>\d{4})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?\s*$"
)
_ISO = r"^\s*\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?\s*$"


def _check_cells(name: str, arr: pa.ChunkedArray, limits: DataLimits) -> None:
    # Byte lengths come free from the offsets; characters ≤ bytes, so count characters only
    # when some cell has more bytes than the limit allows characters.
    most_bytes = pc.max(pc.binary_length(arr)).as_py()
    if most_bytes is None or most_bytes <= limits.max_cell_chars:
        return
    lengths = pc.utf8_length(arr)
    longest = pc.max(lengths).as_py()
    if longest is not None and longest > limits.max_cell_chars:
        row = pc.index(pc.greater(lengths, limits.max_cell_chars), True).as_py()
        raise LimitExceeded(
            "max_cell_chars",
            limits.max_cell_chars,
            longest,
            unit="characters",
            what=f"A cell in column '{name}' (row {row + 1}) has",
        )


def _sample_fails(arr: pa.ChunkedArray, pattern: str) -> bool:
    """True when a value among the first few thousand does not match: then the whole column
    cannot match, and the full scan (the costly part on millions of rows) is skipped."""
    hits = pc.match_substring_regex(arr.slice(0, 4096), pattern)
    return pc.any(pc.invert(hits)).as_py() is True


def _all_match(arr: pa.ChunkedArray, pattern: str) -> bool:
    if _sample_fails(arr, pattern):
        return False
    hits = pc.match_substring_regex(arr, pattern)
    return bool(pc.all(hits).as_py()) and arr.null_count < len(arr)


def _try_formats(arr: pa.ChunkedArray, formats: list[str]) -> pa.ChunkedArray | None:
    for fmt in formats:
        try:
            return pc.strptime(arr, format=fmt, unit="s")
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
    return None


def _to_datetime(name: str, arr: pa.ChunkedArray, warnings: list[str]) -> pa.ChunkedArray | None:
    """ISO strings, or d/m/y vs m/d/y when some value proves the order; else None."""
    if _all_match(arr, _ISO):
        trimmed = pc.utf8_trim_whitespace(arr)
        for unit, tz in (("us", None), ("us", "UTC")):
            try:
                return pc.cast(trimmed, pa.timestamp(unit, tz))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                continue
        return None
    if not _all_match(arr, _DMY):
        return None
    parts = pc.extract_regex(arr, _DMY)
    first = pc.max(pc.cast(pc.struct_field(parts, [0]), pa.int32())).as_py()
    second = pc.max(pc.cast(pc.struct_field(parts, [1]), pa.int32())).as_py()
    if first > 12 >= second:
        date = "%d/%m/%Y"
    elif second > 12 >= first:
        date = "%m/%d/%Y"
    else:
        if first <= 12 and second <= 12:
            warnings.append(
                f"Column '{name}' holds dates that could be day/month or month/day; kept as "
                f"text. Tell me the order (e.g. '{name}:datetime') to convert it."
            )
        return None
    normal = pc.replace_substring_regex(
        pc.utf8_trim_whitespace(arr), r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})[ T]?", r"\1/\2/\3 "
    )
    normal = pc.utf8_trim_whitespace(normal)
    return _try_formats(normal, [date, f"{date} %H:%M", f"{date} %H:%M:%S"])


_TRIGGERS = np.zeros(256, dtype=bool)
_TRIGGERS[[ord(c) for c in "=+@\t\r"]] = True
_NUMBERISH = np.zeros(256, dtype=bool)
_NUMBERISH[[ord(c) for c in "0123456789."]] = True


def _formula_cells(chunk: pa.Array) -> int:
    """Count values matching ``_FORMULA_CELL`` from the raw offsets and bytes: a regex over
    millions of values costs more than the parse; two byte lookups per value cost nothing."""
    if len(chunk) == 0:
        return 0
    _, offsets_buf, data_buf = chunk.buffers()
    if data_buf is None or data_buf.size == 0:
        return 0
    width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    offsets = np.frombuffer(offsets_buf, dtype=width)[chunk.offset : chunk.offset + len(chunk) + 1]
    data = np.frombuffer(data_buf, dtype=np.uint8)
    starts, lengths = offsets[:-1], np.diff(offsets)
    first = np.zeros(len(starts), dtype=np.uint8)
    filled = lengths > 0
    first[filled] = data[starts[filled]]
    hits = _TRIGGERS[first]
    minus = np.flatnonzero(first == ord("-"))
    if minus.size:
        second = np.zeros(minus.size, dtype=np.uint8)
        longer = lengths[minus] > 1
        second[longer] = data[starts[minus][longer] + 1]
        hits[minus] = ~(longer & _NUMBERISH[second])
    if chunk.null_count:
        hits &= ~chunk.is_null().to_numpy(zero_copy_only=False)
    return int(hits.sum())


def fix_text(
    name: str,
    *,
    arr: pa.ChunkedArray,
    decimal: str,
    limits: DataLimits,
    warnings: list[str],
    conversions: list[str],
    check_nul: bool,
) -> pa.ChunkedArray:
    _check_cells(name, arr, limits)
    if check_nul and pc.any(pc.match_substring(arr, "\x00")).as_py():
        arr = pc.replace_substring(arr, "\x00", "")
        warnings.append(f"NUL bytes were removed from column '{name}'.")
    number = to_number(arr, decimal)
    if number is not None:
        conversions.append(number[1].describe(name))
        return number[0]
    when = _to_datetime(name, arr, warnings)
    if when is not None:
        return when
    formulas = sum(_formula_cells(chunk) for chunk in arr.chunks)
    if formulas:
        warnings.append(
            f"{formulas:,} cell(s) in column '{name}' start with =, +, - or @ like a spreadsheet "
            "formula; they are kept as text and escaped when tables are exported."
        )
    return arr
