"""Which columns a correlation can use (and why the others are left out), and Pearson, Spearman
and Kendall side by side for every pair.

A column is left out, with the reason said to the user (issue 11), when it is not numeric, has
fewer than three values, or is constant: a correlation with it is undefined, and a matrix row
of "n/a" explains nothing. Pairs use pairwise-complete rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from statbot.analysis.frames import column_kind, nan_to_none, require_columns
from statbot.errors import DataError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

METHODS = ("pearson", "spearman", "kendall")
MIN_VALUES = 3


def pair_correlation(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], method: str
) -> tuple[float, float]:
    """(coefficient, two-sided p) from scipy; NaN when too few pairs or a constant column."""
    from scipy import stats

    if x.size < MIN_VALUES or float(x.min()) == float(x.max()) or float(y.min()) == float(y.max()):
        return math.nan, math.nan
    if method == "pearson":
        res = stats.pearsonr(x, y)
    elif method == "spearman":
        res = stats.spearmanr(x, y)
    else:
        res = stats.kendalltau(x, y)
    return float(res.statistic), float(res.pvalue)


def _why_not(series: pd.Series) -> str | None:
    import numpy as np

    kind = column_kind(series)
    if kind != "numeric":
        return "dates, not numbers" if kind == "datetime" else "not numeric"
    raw = series.to_numpy(dtype=float, na_value=np.nan)
    values = raw[np.isfinite(raw)]
    if values.size < MIN_VALUES:
        return f"only {values.size} value{'' if values.size == 1 else 's'}"
    if float(values.min()) == float(values.max()):
        return f"constant (every value is {float(values[0]):g})"
    return None


def usable_columns(
    frame: pd.DataFrame, columns: list[str] | None = None
) -> tuple[list[str], dict[str, str]]:
    """(columns to correlate, {left-out column: why}); DataError when fewer than two remain."""
    if columns is not None:
        require_columns(frame, columns)
    names = [str(c) for c in frame.columns] if columns is None else list(columns)
    used: list[str] = []
    left_out: dict[str, str] = {}
    for name in names:
        why = _why_not(frame[name])
        if why is None:
            used.append(name)
        else:
            left_out[name] = why
    if len(used) < 2:
        said = "; ".join(f"{c}: {w}" for c, w in left_out.items())
        raise DataError(
            "fewer than two usable columns",
            user_message="A correlation needs at least two numeric, non-constant columns"
            + (f" (left out — {said})." if said else "."),
        )
    return used, left_out


@dataclass(frozen=True)
class PairRow:
    a: str
    b: str
    n: int
    values: dict[str, tuple[float, float]]  # method → (coefficient, p)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"a": self.a, "b": self.b, "n": self.n}
        for method, (r, p) in self.values.items():
            out[method] = nan_to_none(r)
            out[f"{method}_p"] = nan_to_none(p)
        return out


@dataclass(frozen=True)
class CorrelationTable:
    """Every pair with Pearson r, Spearman ρ and Kendall τ-b, their p-values and n."""

    columns: list[str]
    pairs: list[PairRow]
    left_out: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "methods": list(METHODS),
            "columns": list(self.columns),
            "pairs": [p.to_dict() for p in self.pairs],
            "left_out": dict(self.left_out),
        }

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame([p.to_dict() for p in self.pairs])

    def matrix(self, method: str) -> list[list[float]]:
        index = {c: i for i, c in enumerate(self.columns)}
        k = len(self.columns)
        out = [[1.0 if i == j else math.nan for j in range(k)] for i in range(k)]
        for pair in self.pairs:
            i, j = index[pair.a], index[pair.b]
            out[i][j] = out[j][i] = pair.values[method][0]
        return out


def correlate_all(frame: pd.DataFrame, columns: list[str] | None = None) -> CorrelationTable:
    import numpy as np

    names, left_out = usable_columns(frame, columns)
    data = {c: frame[c].to_numpy(dtype=float, na_value=np.nan) for c in names}
    pairs = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            ok = np.isfinite(data[a]) & np.isfinite(data[b])
            x, y = data[a][ok], data[b][ok]
            values = {m: pair_correlation(x, y, m) for m in METHODS}
            pairs.append(PairRow(a, b, int(ok.sum()), values))
    return CorrelationTable(names, pairs, left_out)
