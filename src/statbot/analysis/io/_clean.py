"""From a raw Arrow table to the frame statbot works on: names, limits, types, warnings.

Private to ``statbot.analysis.io``. Every reader (CSV, Excel, JSON, Parquet) ends here, so the
rules are the same whatever the format: column names are cleaned and made unique, every
:class:`DataLimits` bound is checked, text columns that are really numbers (thousands
separators, decimal commas) or unambiguous dates are converted, NUL bytes are removed, and
formula-looking cells are reported (they are escaped on export by ``safe_csv_bytes``).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from statbot.analysis.errors import EmptyData, LimitExceeded
from statbot.analysis.io._pyrows import mixed_warning
from statbot.analysis.io._text import fix_text

if TYPE_CHECKING:
    import pandas as pd

    from statbot.analysis.io.limits import DataLimits

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# Cells that a spreadsheet would evaluate; a leading "-" followed by a number is just a number.
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


def _as_text(value: Any) -> str | None:
    """Nested values as JSON (the same text the JSON reader gives them), bytes as UTF-8."""
    if value is None:
        return None
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


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
                values = [_as_text(v) for v in table.column(i).to_pylist()]
                col = pa.chunked_array([pa.array(values, pa.string())])
                what = (
                    "nested"
                    if pa.types.is_nested(t)
                    else "time"
                    if pa.types.is_time(t) or pa.types.is_duration(t)
                    else "binary"
                )
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
    conversions: list[str] | None = None,
) -> pd.DataFrame:
    """Clean names, enforce limits, convert text columns, and hand over to pandas.

    ``conversions`` collects one sentence per text column read as formatted numbers."""
    conversions = [] if conversions is None else conversions
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
            fixed = fix_text(
                name,
                arr=arr,
                decimal=decimal,
                limits=limits,
                warnings=warnings,
                conversions=conversions,
                check_nul=check_nul,
            )
            if fixed is not arr:
                table = table.set_column(i, name, fixed)
                if pa.types.is_floating(fixed.type):
                    # "$1,234" text beside number cells: numbers after all, not mixed
                    stale = mixed_warning(name, {"number", "text"})
                    warnings[:] = [w for w in warnings if w != stale]
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
