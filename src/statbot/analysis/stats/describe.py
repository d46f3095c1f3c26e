"""Descriptive statistics, correlation matrices and a missing-data report.

Moments use the corrected two-pass algorithm (Chan, Golub & LeVeque 1983): the mean is
refined by the mean of the first-pass residuals and the variance subtracts the squared sum
of residuals, so data with a large common offset (NIST-style 1e12 + 0.1) keeps its digits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from statbot.analysis.frames import column_kind, nan_to_none, require_columns
from statbot.errors import DataError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

CorrMethod = Literal["pearson", "spearman", "kendall"]
_TOP_LEVELS = 10
_FSUM_LIMIT = 200_000  # above this, numpy's pairwise summation (error O(log n)) is used


def stable_sum(values: npt.NDArray[np.float64]) -> float:
    """Exactly rounded sum for moderate n (math.fsum), pairwise summation beyond."""
    if values.size <= _FSUM_LIMIT:
        return math.fsum(values.tolist())
    return float(values.sum())


def moments(values: npt.NDArray[np.float64]) -> dict[str, float]:
    """mean, std (n-1), skew (adjusted Fisher-Pearson G1) and excess kurtosis (G2)."""
    n = values.size
    nan = math.nan
    if n == 0:
        return {"mean": nan, "std": nan, "skew": nan, "kurtosis": nan}
    pilot = stable_sum(values) / n
    mean = pilot + stable_sum(values - pilot) / n
    dev = values - mean
    s1 = stable_sum(dev)
    s2 = stable_sum(dev * dev) - s1 * s1 / n
    std = math.sqrt(max(s2, 0.0) / (n - 1)) if n > 1 else nan
    m2 = max(s2, 0.0) / n
    skew = kurt = nan
    if m2 > 0.0 and n > 2:
        m3 = stable_sum(dev**3) / n
        skew = m3 / m2**1.5 * math.sqrt(n * (n - 1)) / (n - 2)
    if m2 > 0.0 and n > 3:
        g2 = stable_sum(dev**4) / n / (m2 * m2) - 3.0
        kurt = ((n + 1) * g2 + 6.0) * (n - 1) / ((n - 2) * (n - 3))
    return {"mean": mean, "std": std, "skew": skew, "kurtosis": kurt}


@dataclass(frozen=True)
class ColumnSummary:
    """One column's summary; ``stats`` holds the kind-specific numbers or labels."""

    name: str
    kind: str
    count: int
    missing: int
    stats: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "count": self.count}
        for key, value in self.stats.items():
            out[key] = nan_to_none(value) if isinstance(value, float) else value
        out["missing"] = self.missing
        return out


@dataclass(frozen=True)
class DescribeResult:
    rows: int
    columns: list[ColumnSummary]

    def to_dict(self) -> dict[str, Any]:
        """``{column: {count, mean, std, min, 25%, 50%, 75%, max, ..., missing}}``."""
        return {c.name: c.to_dict() for c in self.columns}

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        records = []
        for col in self.columns:
            flat = {
                k: (str(v) if isinstance(v, dict | list) else v) for k, v in col.to_dict().items()
            }
            records.append({"column": col.name, **flat})
        return pd.DataFrame.from_records(records)


def _numeric(name: str, series: pd.Series) -> ColumnSummary:
    import numpy as np

    raw = series.to_numpy(dtype=float, na_value=np.nan)
    values = raw[np.isfinite(raw)]
    stats: dict[str, Any] = {}
    mom = moments(values)
    stats["mean"], stats["std"] = mom["mean"], mom["std"]
    if values.size:
        q1, q2, q3 = (float(q) for q in np.quantile(values, [0.25, 0.5, 0.75]))
        lo, hi = float(values.min()), float(values.max())
    else:
        q1 = q2 = q3 = lo = hi = math.nan
    stats.update({"min": lo, "25%": q1, "50%": q2, "75%": q3, "max": hi})
    stats["skew"], stats["kurtosis"] = mom["skew"], mom["kurtosis"]
    infinite = int(np.isinf(raw).sum())
    if infinite:
        stats["infinite"] = infinite
    return ColumnSummary(name, "numeric", int(values.size), int(raw.size - values.size), stats)


def _categorical(name: str, series: pd.Series) -> ColumnSummary:
    present = series.dropna()
    counts = present.astype(str).value_counts()
    top = {str(level): int(n) for level, n in counts.head(_TOP_LEVELS).items()}
    stats: dict[str, Any] = {"unique": int(counts.size), "top": top}
    return ColumnSummary(
        name, "categorical", int(present.size), int(series.size - present.size), stats
    )


def _datetime(name: str, series: pd.Series) -> ColumnSummary:
    present = series.dropna()
    stats: dict[str, Any] = {"min": None, "max": None, "range_days": math.nan}
    if present.size:
        lo, hi = present.min(), present.max()
        stats = {
            "min": lo.isoformat(),
            "max": hi.isoformat(),
            "range_days": (hi - lo).total_seconds() / 86400.0,
        }
    return ColumnSummary(
        name, "datetime", int(present.size), int(series.size - present.size), stats
    )


def describe(frame: pd.DataFrame, columns: list[str] | None = None) -> DescribeResult:
    """Summaries of every (or the named) column, by kind."""
    names = [str(c) for c in frame.columns] if columns is None else columns
    require_columns(frame, names)
    summaries = []
    for name in names:
        series = frame[name]
        kind = column_kind(series)
        builder = {"numeric": _numeric, "categorical": _categorical, "datetime": _datetime}[kind]
        summaries.append(builder(name, series))
    return DescribeResult(rows=len(frame), columns=summaries)


@dataclass(frozen=True)
class CorrelationResult:
    """Pairwise correlations: ``r[i][j]``, ``p_value[i][j]`` and pairwise-complete ``n[i][j]``;
    ``left_out`` names the columns that could not take part and why."""

    method: str
    columns: list[str]
    r: list[list[float]]
    p_value: list[list[float]]
    n: list[list[int]]
    left_out: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        def keyed(matrix: list[list[Any]]) -> dict[str, dict[str, Any]]:
            return {
                a: {
                    b: (nan_to_none(v) if isinstance(v, float) else v)
                    for b, v in zip(self.columns, row, strict=True)
                }
                for a, row in zip(self.columns, matrix, strict=True)
            }

        return {
            "method": self.method,
            "columns": list(self.columns),
            "r": keyed(self.r),
            "p_value": keyed(self.p_value),
            "n": keyed(self.n),
            "left_out": dict(self.left_out),
        }

    def to_frame(self) -> pd.DataFrame:
        """Long format, one row per unordered pair: a, b, r, p_value, n."""
        import pandas as pd

        rows = []
        k = len(self.columns)
        for i in range(k):
            for j in range(i + 1, k):
                rows.append(
                    {
                        "a": self.columns[i],
                        "b": self.columns[j],
                        "r": self.r[i][j],
                        "p_value": self.p_value[i][j],
                        "n": self.n[i][j],
                    }
                )
        return pd.DataFrame(rows, columns=["a", "b", "r", "p_value", "n"])


def correlate(
    frame: pd.DataFrame, method: CorrMethod = "pearson", columns: list[str] | None = None
) -> CorrelationResult:
    """Correlation matrix with p-values, using pairwise-complete rows; columns that cannot take
    part (statbot.analysis.stats.correlations.usable_columns) are left out and named."""
    import numpy as np

    from statbot.analysis.stats.correlations import pair_correlation, usable_columns

    if method not in ("pearson", "spearman", "kendall"):
        raise DataError(
            f"unknown correlation method {method!r}",
            user_message="The correlation method must be pearson, spearman or kendall.",
        )
    names, left_out = usable_columns(frame, columns)
    data = [frame[c].to_numpy(dtype=float, na_value=np.nan) for c in names]
    k = len(names)
    r = [[math.nan] * k for _ in range(k)]
    p = [[math.nan] * k for _ in range(k)]
    n = [[0] * k for _ in range(k)]
    for i in range(k):
        for j in range(i, k):
            ok = np.isfinite(data[i]) & np.isfinite(data[j])
            n[i][j] = n[j][i] = int(ok.sum())
            if i == j:
                r[i][i], p[i][i] = (1.0, 0.0) if n[i][i] >= 2 else (math.nan, math.nan)
                continue
            r[i][j], p[i][j] = pair_correlation(data[i][ok], data[j][ok], method)
            r[j][i], p[j][i] = r[i][j], p[i][j]
    return CorrelationResult(method, names, r, p, n, left_out)


@dataclass(frozen=True)
class MissingReport:
    rows: int
    complete_rows: int
    missing_by_column: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "complete_rows": self.complete_rows,
            "rows_with_missing": self.rows - self.complete_rows,
            "columns": {
                c: {"missing": m, "fraction": (m / self.rows if self.rows else 0.0)}
                for c, m in self.missing_by_column.items()
            },
        }

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        cols = self.to_dict()["columns"]
        return pd.DataFrame(
            [{"column": c, **v} for c, v in cols.items()], columns=["column", "missing", "fraction"]
        )


def missing_report(frame: pd.DataFrame) -> MissingReport:
    """Missing values per column and how many rows are complete."""
    missing = frame.isna()
    return MissingReport(
        rows=len(frame),
        complete_rows=int((~missing.any(axis=1)).sum()),
        missing_by_column={str(c): int(missing[c].sum()) for c in frame.columns},
    )
