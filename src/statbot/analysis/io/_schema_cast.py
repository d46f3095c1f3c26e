"""Casting a column to a declared type, reporting what would not convert (in words).

Private to ``statbot.analysis.io.schema``: both user overrides ("treat zip as category") and
validation of a later-loaded file against a typed spec go through :func:`cast_column`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

# Canonical type names and the words users may type for them.
TYPE_ALIASES: dict[str, tuple[str, ...]] = {
    "float": ("float", "numeric", "number", "double", "real", "num", "decimal"),
    "integer": ("integer", "int", "count", "whole"),
    "boolean": ("boolean", "bool", "flag", "yesno"),
    "category": ("category", "categorical", "cat", "factor", "group"),
    "datetime": ("datetime", "date", "time", "timestamp"),
    "text": ("text", "string", "str"),
    "identifier": ("identifier", "id", "key"),
    "ignore": ("ignore", "skip", "drop", "none"),
}
ALLOWED = tuple(TYPE_ALIASES)
_LOOKUP = {alias: canon for canon, aliases in TYPE_ALIASES.items() for alias in aliases}
_TRUE = {"true", "t", "yes", "y", "1", "1.0", "on"}
_FALSE = {"false", "f", "no", "n", "0", "0.0", "off"}
_WHAT = {
    "float": "not numbers",
    "integer": "not whole numbers",
    "boolean": "not yes/no (true/false) values",
    "datetime": "not dates",
}
_DATE_FORMATS = (
    "ISO8601",
    "%d/%m/%Y",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%m/%d/%Y",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%d.%m.%Y",
    "%d-%m-%Y",
)


def canonical_type(word: str) -> str | None:
    return _LOOKUP.get(word.strip().lower())


def _to_datetime(series: pd.Series) -> pd.Series:
    """The first format that reads every value; day-first before month-first when both do."""
    import pandas as pd
    from pandas.api import types

    if types.is_datetime64_any_dtype(series.dtype):
        return series
    text = series.astype("str").str.strip().where(series.notna())
    best: pd.Series | None = None
    for fmt in _DATE_FORMATS:
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
        if best is None or parsed.notna().sum() > best.notna().sum():
            best = parsed
        if parsed.notna().sum() == series.notna().sum():
            return parsed
    assert best is not None
    return best


def _number_text(value: float) -> str | None:
    """12345.0 -> "12345" (a zip code read as float), 0.5 -> "0.5"; NaN -> None."""
    import math

    if math.isnan(value):
        return None
    return f"{value:.0f}" if value == int(value) else repr(value)


def _convert(series: pd.Series, kind: str) -> pd.Series:
    import numpy as np
    import pandas as pd
    from pandas.api import types

    if kind == "float":
        if types.is_bool_dtype(series.dtype):
            return series.astype("float64")
        return pd.to_numeric(series, errors="coerce").astype("float64")
    if kind == "integer":
        numbers = pd.to_numeric(series, errors="coerce").astype("float64")
        whole = numbers.where(np.isfinite(numbers) & (numbers == np.round(numbers)))
        if whole.notna().all():
            return whole.astype("int64")
        return whole
    if kind == "boolean":
        if types.is_bool_dtype(series.dtype):
            return series.astype("boolean")
        lowered = series.astype("str").str.strip().str.lower()
        out = pd.Series(pd.NA, index=series.index, dtype="boolean")
        out[lowered.isin(_TRUE) & series.notna()] = True
        out[lowered.isin(_FALSE) & series.notna()] = False
        return out
    if kind == "datetime":
        return _to_datetime(series)
    if kind == "category":
        if types.is_float_dtype(series.dtype):
            whole = series.dropna()
            if len(whole) and bool((whole == whole.round()).all()) and whole.abs().max() < 2**53:
                # Codes stored as floats (statsmodels' fair data: occupation 1.0 … 6.0) are
                # levels "1" … "6" to a reader, not "1.0" … "6.0".
                return series.astype("Int64").astype("category")
        return series.astype("category")
    # text and identifier keep the values, as text
    if types.is_float_dtype(series.dtype):
        values: pd.Series = series.map(_number_text)
        return values.astype("str").where(series.notna())
    return series.astype("str").where(series.notna())


def cast_column(series: pd.Series, kind: str) -> tuple[pd.Series, str | None]:
    """Return (converted series, problem sentence or None). ``kind`` is a canonical type."""
    converted = _convert(series, kind)
    if kind not in _WHAT:
        return converted, None
    bad = converted.isna() & series.notna()
    count = int(bad.sum())
    if not count:
        return converted, None
    position = int(bad.to_numpy().nonzero()[0][0])
    example = str(series.iloc[position])[:40]
    problem = (
        f"Column '{series.name}' has {count:,} value(s) that are {_WHAT[kind]} "
        f"(e.g. '{example}' in data row {position + 1})."
    )
    return converted, problem
