"""Column lookup and kind detection shared by describe, tests and regression.

Private to ``statbot.analysis``: one place decides what "numeric", "categorical" and
"datetime" mean, and how an unknown column name is reported (with the closest match).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Literal, Protocol

from statbot.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

Kind = Literal["numeric", "categorical", "datetime"]


def closest(name: str, choices: Iterable[str]) -> str | None:
    """The closest column name to ``name`` (case-insensitive), or None if nothing is close."""
    options = [str(c) for c in choices]
    lowered = {c.lower(): c for c in options}
    if name.lower() in lowered:
        return lowered[name.lower()]
    match = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.5)
    return lowered[match[0]] if match else None


def require_columns(frame: pd.DataFrame, names: Sequence[str]) -> None:
    """Raise DataError naming the first unknown column and suggesting the closest one."""
    present = [str(c) for c in frame.columns]
    for name in names:
        if name in present:
            continue
        hint = closest(name, present)
        suggestion = f' Did you mean "{hint}"?' if hint else ""
        listing = ", ".join(present[:20]) + (" …" if len(present) > 20 else "")
        raise DataError(
            f"unknown column {name!r}",
            user_message=f'There is no column "{name}".{suggestion} Columns: {listing}.',
        )


def column_kind(series: pd.Series) -> Kind:
    """numeric (not bool), datetime, or categorical (everything else, booleans included)."""
    from pandas.api import types

    if types.is_bool_dtype(series.dtype):
        return "categorical"
    if types.is_datetime64_any_dtype(series.dtype):
        return "datetime"
    if types.is_numeric_dtype(series.dtype):
        return "numeric"
    return "categorical"


def numeric_values(series: pd.Series) -> list[float]:
    """Finite float values of a numeric series, missing values dropped."""
    return [float(v) for v in series.dropna().to_numpy(dtype=float) if math.isfinite(v)]


def nan_to_none(value: float | None) -> float | None:
    """JSON has no NaN: map non-finite floats to None, keep full precision otherwise."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def by_term(terms: Sequence[str], values: Sequence[float]) -> dict[str, float | None]:
    """One model column keyed by term, JSON-safe: OLS and logit results share this form."""
    return {t: nan_to_none(v) for t, v in zip(terms, values, strict=True)}


def term_columns(fit: Coefficients, *names: str) -> dict[str, dict[str, float | None]]:
    """The named per-term attributes of ``fit``, each keyed by term (see by_term)."""
    return {name: by_term(fit.terms, getattr(fit, name)) for name in names}


class Coefficients(Protocol):
    """What a fitted regression result lists per term."""

    @property
    def terms(self) -> list[str]: ...
    @property
    def coefficients(self) -> list[float]: ...
    @property
    def std_errors(self) -> list[float]: ...


def coefficient_frame(fit: Coefficients, **columns: Sequence[float]) -> pd.DataFrame:
    """The coefficient table every regression prints: term, estimate, standard error, then the
    model's own columns (t or z, p-value, ...) in the order given."""
    import pandas as pd

    return pd.DataFrame(
        {"term": fit.terms, "coefficient": fit.coefficients, "std_error": fit.std_errors, **columns}
    )
