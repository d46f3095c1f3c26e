"""Per-column schema: inference, a phone-sized summary, user overrides, typed specs.

Public API::

    infer_schema(frame) -> Schema                 # JSON-able (to_dict / from_dict)
    render_schema(schema) -> str                  # short monospace table
    apply_overrides(frame, {"zip": "category"}) -> DataFrame
    parse_schema_spec("price:float, city:category, id:ignore") -> SchemaSpec
    validate_against(frame, spec) -> DataFrame    # later-loaded file checked against a spec

Kinds: ``integer``, ``numeric``, ``boolean``, ``categorical`` (with level counts), ``datetime``,
``text`` (free text), ``identifier`` (unique-ish ints or strings), ``empty`` (all missing).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from statbot.analysis.errors import SchemaMismatch, SchemaSpecError
from statbot.analysis.frames import closest
from statbot.analysis.io._schema_cast import ALLOWED, canonical_type, cast_column

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ColumnSchema",
    "Schema",
    "SchemaSpec",
    "apply_overrides",
    "canonical_type",
    "infer_schema",
    "parse_schema_spec",
    "render_schema",
    "validate_against",
]

MAX_LEVELS = 20
MAX_CATEGORY_LEVELS = 200
_ID_NAME = re.compile(r"(^|[_\s.-])(id|key|uuid|guid|code|no|number|nr)$|^id[_\s.-]", re.I)
_BOOL_WORDS = {"true", "false", "yes", "no", "y", "n", "t", "f"}
_SHORT = {
    "integer": "int",
    "numeric": "num",
    "boolean": "bool",
    "categorical": "cat",
    "datetime": "date",
    "text": "text",
    "identifier": "id",
    "empty": "empty",
}


@dataclass(frozen=True, slots=True)
class ColumnSchema:
    name: str
    kind: str
    dtype: str
    missing: int
    unique: int
    levels: dict[str, int] = field(default_factory=dict)  # top levels by count (categorical)


@dataclass(frozen=True, slots=True)
class Schema:
    rows: int
    columns: tuple[ColumnSchema, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "columns": [asdict(c) for c in self.columns]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Schema:
        return cls(int(data["rows"]), tuple(ColumnSchema(**c) for c in data["columns"]))

    def kind_of(self, name: str) -> str:
        for column in self.columns:
            if column.name == name:
                return column.kind
        raise KeyError(name)


def _levels(series: pd.Series) -> dict[str, int]:
    counts = series.value_counts(dropna=True).head(MAX_LEVELS)
    return {str(k): int(v) for k, v in counts.items()}


def _column_kind(series: pd.Series, name: str, non_null: int, unique: int) -> str:
    import numpy as np
    from pandas.api import types

    dtype = series.dtype
    if non_null == 0:
        return "empty"
    if types.is_bool_dtype(dtype):
        return "boolean"
    if types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if isinstance(dtype, __import__("pandas").CategoricalDtype):
        return "categorical"
    if types.is_numeric_dtype(dtype):
        values = series.dropna().to_numpy(dtype="float64", na_value=np.nan)
        integral = bool(np.all(np.isfinite(values)) and np.all(values == np.round(values)))
        if not integral:
            return "numeric"
        if unique == non_null and non_null >= 20:
            span = float(values.max() - values.min()) + 1
            if _ID_NAME.search(name) or span == non_null:
                return "identifier"
        return "integer"
    text = series.dropna().astype("str")
    if unique <= 2 and {v.strip().lower() for v in text.unique()} <= _BOOL_WORDS:
        return "boolean"
    # Few levels relative to the rows, and never more than MAX_CATEGORY_LEVELS: 80,000 distinct
    # notes in 3 million rows are free text, not a factor a test or a one-hot encoder can use.
    few = unique <= max(MAX_LEVELS, min(0.05 * non_null, MAX_CATEGORY_LEVELS))
    if (few and unique < non_null) or unique <= 2:
        return "categorical"
    if unique >= 0.95 * non_null and non_null >= 20:
        lengths = text.str.len()
        if lengths.max() <= 40 and not text.str.contains(" ", regex=False).any():
            return "identifier"
    return "text"


def infer_schema(frame: pd.DataFrame) -> Schema:
    """Classify every column; counts are exact (missing, unique), levels for categoricals."""
    columns = []
    for i, name in enumerate(frame.columns):
        series = frame.iloc[:, i]
        non_null = int(series.notna().sum())
        unique = int(series.nunique(dropna=True))
        kind = _column_kind(series, str(name), non_null, unique)
        levels = _levels(series) if kind in ("categorical", "boolean") else {}
        columns.append(
            ColumnSchema(
                name=str(name),
                kind=kind,
                dtype=str(series.dtype),
                missing=int(len(series) - non_null),
                unique=unique,
                levels=levels,
            )
        )
    return Schema(rows=int(frame.shape[0]), columns=tuple(columns))


def render_schema(schema: Schema, *, width: int = 14, max_columns: int = 40) -> str:
    """A short fixed-width table (name, type, missing) that fits a phone screen."""
    lines = [f"{schema.rows:,} rows × {len(schema.columns)} columns"]
    lines.append(f"{'column':<{width}} {'type':<9} {'missing':>7}")
    for column in schema.columns[:max_columns]:
        name = column.name if len(column.name) <= width else column.name[: width - 1] + "…"
        kind = _SHORT[column.kind]
        if column.kind == "categorical":
            kind = f"cat({column.unique})" if column.unique < 10_000 else "cat"
        lines.append(f"{name:<{width}} {kind:<9} {column.missing:>7,}")
    if len(schema.columns) > max_columns:
        lines.append(f"… and {len(schema.columns) - max_columns} more columns")
    return "\n".join(lines)


def _unknown_column(name: str, present: list[str]) -> str:
    guess = closest(name, present)
    return f"Column '{name}' is missing" + (f" (did you mean '{guess}'?)." if guess else ".")


def apply_overrides(frame: pd.DataFrame, overrides: Mapping[str, str]) -> pd.DataFrame:
    """Return a copy with each named column cast (``ignore`` drops it); all problems at once."""
    problems: list[str] = []
    present = [str(c) for c in frame.columns]
    out = frame.copy()
    for name, word in overrides.items():
        kind = canonical_type(word)
        if kind is None:
            problems.append(f"'{word}' is not a type; use one of {', '.join(ALLOWED)}.")
            continue
        converted = _cast_one(frame, name, kind, present, problems)
        if kind == "ignore" and name in present:
            out = out.drop(columns=[name])
        elif converted is not None:
            out[name] = converted
    if problems:
        raise SchemaMismatch(problems)
    return out


def _cast_one(
    frame: pd.DataFrame, name: str, kind: str, present: list[str], problems: list[str]
) -> Any:
    """``frame[name]`` cast to ``kind`` (a problem appended when a value does not fit); None
    when the column is missing (said in ``problems``) or ``kind`` is ``ignore``."""
    if name not in present:
        problems.append(_unknown_column(name, present))
        return None
    if kind == "ignore":
        return None
    converted, problem = cast_column(frame[name], kind)
    if problem:
        problems.append(problem)
    return converted


@dataclass(frozen=True, slots=True)
class SchemaSpec:
    """An ordered list of (column, canonical type) pairs parsed from a user's spec."""

    columns: tuple[tuple[str, str], ...]

    def as_dict(self) -> dict[str, str]:
        return dict(self.columns)

    def __str__(self) -> str:
        def quote(name: str) -> str:
            return f'"{name}"' if re.search(r"[,:;\"'\s]", name) else name

        return ", ".join(f"{quote(n)}:{t}" for n, t in self.columns)


def _spec_error(message: str, spec: str, position: int) -> SchemaSpecError:
    return SchemaSpecError(message, spec=spec, position=position, allowed=ALLOWED)


def parse_schema_spec(spec: str) -> SchemaSpec:
    """Parse ``name:type`` items separated by commas, semicolons or new lines.

    Names may be quoted ("unit price":float). Errors name the bad token and point at it.
    """
    columns: list[tuple[str, str]] = []
    seen: set[str] = set()
    pos, n = 0, len(spec)
    if not spec.strip():
        raise _spec_error("The schema is empty; write it as name:type, name:type", spec, 0)
    while pos < n:
        while pos < n and spec[pos] in " \t":
            pos += 1
        start = pos
        if pos < n and spec[pos] in "\"'":
            quote = spec[pos]
            end = spec.find(quote, pos + 1)
            if end < 0:
                raise _spec_error("This quoted column name is never closed", spec, pos)
            name, pos = spec[pos + 1 : end], end + 1
        else:
            while pos < n and spec[pos] not in ":,;\n":
                pos += 1
            name = spec[start:pos].strip()
        while pos < n and spec[pos] in " \t":
            pos += 1
        if not name:
            raise _spec_error("Expected a column name here", spec, start)
        if pos >= n or spec[pos] != ":":
            head, _, last = name.rpartition(" ")
            if head and canonical_type(last):
                gap = start + spec[start:pos].rstrip().rfind(" ")
                raise _spec_error(f"Missing ':' between '{head.strip()}' and '{last}'", spec, gap)
            raise _spec_error(f"Column '{name}' needs a type, like '{name}:float'", spec, pos)
        pos += 1
        while pos < n and spec[pos] in " \t":
            pos += 1
        type_start = pos
        while pos < n and spec[pos] not in ",;\n":
            pos += 1
        word = spec[type_start:pos].strip()
        kind = canonical_type(word)
        if kind is None:
            aliases = [*ALLOWED, "int", "bool", "date", "id", "string"]
            hint = difflib.get_close_matches(word.lower(), aliases, n=1, cutoff=0.5)
            extra = f" (did you mean '{hint[0]}'?)" if hint else ""
            what = f"Unknown type '{word}'" if word else f"Column '{name}' has no type"
            raise _spec_error(what + extra, spec, type_start)
        if name in seen:
            raise _spec_error(f"Column '{name}' is listed twice", spec, start)
        seen.add(name)
        columns.append((name, kind))
        if pos < n:
            pos += 1  # the separator
    return SchemaSpec(tuple(columns))


def validate_against(frame: pd.DataFrame, spec: SchemaSpec) -> pd.DataFrame:
    """Cast ``frame`` to ``spec``: spec columns first in spec order (``ignore`` ones dropped),
    then any extra columns unchanged. Raises SchemaMismatch listing every problem in words."""
    problems: list[str] = []
    present = [str(c) for c in frame.columns]
    out: dict[str, Any] = {}
    for name, kind in spec.columns:
        converted = _cast_one(frame, name, kind, present, problems)
        if converted is not None:
            out[name] = converted
    if problems:
        raise SchemaMismatch(problems)
    import pandas as pd

    named = {name for name, _ in spec.columns}
    for name in present:
        if name not in named:
            out[name] = frame[name]
    return pd.DataFrame(out, index=frame.index)
