"""Python values (from Excel cells or JSON) into an Arrow table, one typed column at a time.

Private to ``statbot.analysis.io``. A column that mixes kinds (numbers and text, say) cannot be
one Arrow type; it becomes text with a warning rather than failing the whole file.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import pyarrow as pa


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, dt.datetime | dt.date):
        return "datetime"
    if isinstance(value, dt.time | dt.timedelta):
        return "text"
    if isinstance(value, dict | list):
        return "nested"
    return "text"


def _text(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def mixed_warning(name: str, kinds: set[str]) -> str:
    """The note for a column of mixed kinds (dropped again if its text reads as numbers)."""
    return f"Column '{name}' mixes {', '.join(sorted(kinds))} values; kept as text."


def _column(name: str, values: Sequence[Any], warnings: list[str]) -> pa.Array:
    kinds = {_kind(v) for v in values if v is not None}
    if kinds == {"number"}:
        if all(isinstance(v, int) for v in values if v is not None) and all(
            -(2**63) <= v < 2**63 for v in values if v is not None
        ):
            return pa.array(values, pa.int64())
        return pa.array([None if v is None else float(v) for v in values], pa.float64())
    if kinds == {"bool"}:
        return pa.array(values, pa.bool_())
    if kinds == {"datetime"}:
        stamps = [
            None
            if v is None
            else v
            if isinstance(v, dt.datetime)
            else dt.datetime(v.year, v.month, v.day)
            for v in values
        ]
        if len({v.tzinfo is None for v in stamps if v is not None}) == 1:
            try:
                return pa.array(stamps)
            except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
                pass
    if not kinds:
        return pa.nulls(len(values), pa.float64())
    if "nested" in kinds:
        warnings.append(f"Column '{name}' holds nested values; kept as JSON text.")
    elif len(kinds) > 1:
        warnings.append(mixed_warning(name, kinds))
    return pa.array([None if v is None else _text(v) for v in values], pa.string())


def columns_to_table(
    names: Sequence[Any], columns: Sequence[Sequence[Any]], warnings: list[str]
) -> pa.Table:
    """Build a table from parallel ``names`` and ``columns``; names are cleaned later."""
    arrays = [_column(str(n), col, warnings) for n, col in zip(names, columns, strict=True)]
    # Arrow field names may repeat; the cleaning step renames duplicates with a warning.
    schema = pa.schema([pa.field(f"{i}", a.type) for i, a in enumerate(arrays)])
    table = pa.Table.from_arrays(arrays, schema=schema)
    return table.rename_columns(["" if n is None else str(n) for n in names])
