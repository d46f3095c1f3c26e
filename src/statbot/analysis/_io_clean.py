"""From a raw Arrow table to the frame statbot works on: names, limits, types, warnings.

Private to ``statbot.analysis.io``. Every reader (CSV, Excel, JSON, Parquet) ends here, so the
rules are the same whatever the format: column names are cleaned and made unique, every
:class:`DataLimits` bound is checked, text columns that are really numbers (thousands
separators, decimal commas) or unambiguous dates are converted, NUL bytes are removed, and
formula-looking cells are reported (they are escaped on export by ``safe_csv_bytes``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from statbot.analysis.errors import EmptyData, LimitExceeded

if TYPE_CHECKING:
    import pandas as pd

    from statbot.analysis.limits import DataLimits

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Cells that a spreadsheet would evaluate; a leading "-" followed by a number is just a number.
_FORMULA_CELL = r"^([=+@\t\r]|-[^0-9.]|-$)"
_NBSP = "\u00a0"
_THOUSANDS = {
    ".": r"^\s*[-+]?\d{1,3}([," + _NBSP + r"' ]\d{3})+(\.\d+)?\s*$",
    ",": r"^\s*[-+]?\d{1,3}([." + _NBSP + r"' ]\d{3})+(,\d+)?\s*$",
}
_PLAIN = {".": r"^\s*[-+]?\d+(\.\d+)?\s*$", ",": r"^\s*[-+]?\d+(,\d+)?\s*$"}
_DMY = (
    r"^\s*(?P<p1>\d{1,2})[/.-](?P<p2>\d{1,2})[/.-](?P<y>\d{4})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?\s*$"
)
_ISO = r"^\s*\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?\s*$"


def clean_names(raw: list[Any], warnings: list[str]) -> list[str]:
    """Strings, no blanks, no formula triggers, unique (``name_2``, ``name_3``…)."""
    names: list[str] = []
    renamed_formula: list[str] = []
    blanks = 0
    for i, value in enumerate(raw, start=1):
        name = "" if value is None else str(value)
        name = name.replace("\x00", "").strip()
        if name.startswith(FORMULA_START) and not re.match(r"^-?\d", name):
            stripped = name.lstrip("".join(FORMULA_START)).strip()
            renamed_formula.append(name)
            name = stripped
        if not name:
            blanks += 1
            name = f"column_{i}"
        names.append(name[:200])
    if renamed_formula:
        shown = ", ".join(repr(n[:40]) for n in renamed_formula[:3])
        warnings.append(
            f"{len(renamed_formula)} column name(s) looked like spreadsheet formulas "
            f"({shown}); the leading =, +, - or @ was removed."
        )
    if blanks:
        warnings.append(f"{blanks} column(s) had no name and were called column_N.")
    seen: dict[str, int] = {}
    taken = set(names)
    out: list[str] = []
    dupes: list[str] = []
    for name in names:
        if name in seen:
            n = seen[name] + 1
            while f"{name}_{n}" in taken:
                n += 1
            seen[name] = n
            new = f"{name}_{n}"
            taken.add(new)
            dupes.append(name)
            out.append(new)
        else:
            seen[name] = 1
            out.append(name)
    if dupes:
        shown = ", ".join(repr(d) for d in dict.fromkeys(dupes))
        warnings.append(f"Duplicate column names ({shown}) were renamed with _2, _3… suffixes.")
    return out


def check_shape(rows: int, columns: int, limits: DataLimits) -> None:
    if columns > limits.max_columns:
        raise LimitExceeded("max_columns", limits.max_columns, columns, unit="columns")
    if rows > limits.max_rows:
        raise LimitExceeded("max_rows", limits.max_rows, rows, unit="rows")


def _is_text(arr: pa.ChunkedArray) -> bool:
    return bool(pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type))


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


def _to_number(arr: pa.ChunkedArray, decimal: str) -> pa.ChunkedArray | None:
    """Text holding numbers with thousands separators (or a decimal comma) -> float64.

    Plain numbers were already typed by the reader, so a column converts only when at least
    one value carries a thousands separator and every value is a number of one of both shapes.
    """
    either = f"({_THOUSANDS[decimal]})|({_PLAIN[decimal]})"
    if _sample_fails(arr, either):
        return None
    grouped = pc.match_substring_regex(arr, _THOUSANDS[decimal])
    if not pc.any(grouped).as_py():
        return None
    plain = pc.match_substring_regex(arr, _PLAIN[decimal])
    if not pc.all(pc.or_(grouped, plain)).as_py():
        return None
    sep = ("[," if decimal == "." else "[.") + _NBSP + "' ]"
    text = pc.replace_substring_regex(pc.utf8_trim_whitespace(arr), sep, "")
    if decimal == ",":
        text = pc.replace_substring(text, ",", ".")
    try:
        return pc.cast(text, pa.float64())
    except pa.ArrowInvalid:
        return None


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


def _fix_text(
    name: str,
    *,
    arr: pa.ChunkedArray,
    decimal: str,
    limits: DataLimits,
    warnings: list[str],
    check_nul: bool,
) -> pa.ChunkedArray:
    _check_cells(name, arr, limits)
    if check_nul and pc.any(pc.match_substring(arr, "\x00")).as_py():
        arr = pc.replace_substring(arr, "\x00", "")
        warnings.append(f"NUL bytes were removed from column '{name}'.")
    number = _to_number(arr, decimal)
    if number is not None:
        return number
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


def _flatten_types(table: pa.Table, warnings: list[str]) -> pa.Table:
    """Nested or binary columns become text so every column is a plain scalar type."""
    for i, field in enumerate(table.schema):
        t = field.type
        if pa.types.is_dictionary(t):
            table = table.set_column(i, field.name, pc.cast(table.column(i), t.value_type))
            t = t.value_type
        if (
            pa.types.is_nested(t)
            or pa.types.is_binary(t)
            or pa.types.is_large_binary(t)
            or pa.types.is_fixed_size_binary(t)
            or pa.types.is_decimal(t)
            or pa.types.is_time(t)
            or pa.types.is_duration(t)
            or pa.types.is_null(t)
        ):
            if pa.types.is_decimal(t):
                col = pc.cast(table.column(i), pa.float64())
            elif pa.types.is_null(t):
                col = pa.chunked_array([pa.nulls(table.num_rows, pa.float64())])
            else:
                col = pa.chunked_array(
                    [
                        pa.array(
                            [None if v is None else str(v) for v in table.column(i).to_pylist()],
                            pa.string(),
                        )
                    ]
                )
                what = "nested" if pa.types.is_nested(t) else "binary"
                warnings.append(f"Column '{field.name}' holds {what} values; kept as text.")
            table = table.set_column(i, field.name, col)
    return table


def _bool_mapper(t: pa.DataType) -> Any:
    import pandas as pd

    return pd.BooleanDtype() if pa.types.is_boolean(t) else None


def finish(
    table: pa.Table,
    limits: DataLimits,
    warnings: list[str],
    *,
    decimal: str = ".",
    check_nul: bool = True,
) -> pd.DataFrame:
    """Clean names, enforce limits, convert text columns, and hand over to pandas."""
    check_shape(table.num_rows, table.num_columns, limits)
    if table.num_columns == 0:
        raise EmptyData("no columns", user_message="The file has no columns.")
    longest = max(len(str(n)) for n in table.column_names)
    if longest > limits.max_cell_chars:
        raise LimitExceeded(
            "max_cell_chars",
            limits.max_cell_chars,
            longest,
            unit="characters",
            what="A column name has",
        )
    table = table.rename_columns(clean_names(list(table.column_names), warnings))
    if table.num_rows == 0:
        shown = ", ".join(table.column_names[:10])
        raise EmptyData(
            "no rows",
            user_message=f"The file has column names ({shown}) but no rows of data.",
        )
    table = _flatten_types(table, warnings)
    for i, name in enumerate(table.column_names):
        arr = table.column(i)
        if _is_text(arr):
            fixed = _fix_text(
                name,
                arr=arr,
                decimal=decimal,
                limits=limits,
                warnings=warnings,
                check_nul=check_nul,
            )
            if fixed is not arr:
                table = table.set_column(i, name, fixed)
    # Hand the parser's cached blocks back to the OS before pandas allocates its copies.
    pa.default_memory_pool().release_unused()
    frame: pd.DataFrame = table.to_pandas(
        types_mapper=_bool_mapper,
        split_blocks=True,
        self_destruct=True,
        date_as_object=False,
        ignore_metadata=True,
    )
    return frame
