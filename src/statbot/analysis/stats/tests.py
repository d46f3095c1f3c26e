"""Hypothesis tests chosen from the variable types, with assumption checks and fallbacks.

``choose_and_run(frame, var_a, var_b=None)`` picks the test:

- one numeric column: one-sample t against ``mu`` (Wilcoxon signed-rank if not normal);
- two numeric columns, ``paired=True``: paired t on the differences (Wilcoxon if not normal);
- numeric + grouping column (text, boolean, or an integer column with ≤ 10 values), or two
  numeric columns compared as independent samples: Welch t for two groups (Mann-Whitney if a
  group is not normal), one-way ANOVA for more (Kruskal-Wallis if a group is not normal or the
  variances differ by Levene's test);
- two categorical columns: chi-square test of independence, Fisher's exact test for a 2×2
  table with an expected count below 5.

Normality: Shapiro-Wilk for n ≤ 5000, D'Agostino-Pearson above. Shapiro rejects harmless
departures in big samples, so with every group ≥ 200 and |skew| < 1 the parametric test is kept
(central limit theorem) and the check says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from statbot.analysis.frames import column_kind, require_columns
from statbot.analysis.stats.compare import (
    contingency,
    k_sample,
    one_sample,
    paired_test,
    two_sample,
)
from statbot.analysis.stats.hypothesis import AssumptionCheck, HypothesisResult, need, normality
from statbot.errors import DataError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

    Array = npt.NDArray[np.float64]

__all__ = [
    "AssumptionCheck",
    "HypothesisResult",
    "choose_and_run",
    "contingency",
    "k_sample",
    "normality",
    "one_sample",
    "paired_test",
    "two_sample",
]

MAX_GROUP_LEVELS = 10


def _values(series: pd.Series) -> Array:
    import numpy as np

    raw: Array = series.to_numpy(dtype=float, na_value=np.nan)
    finite: Array = raw[np.isfinite(raw)]
    return finite


def _is_grouping(series: pd.Series) -> bool:
    import numpy as np

    if column_kind(series) != "numeric":
        return True
    values = _values(series)
    return bool(np.all(values == np.round(values))) and np.unique(values).size <= MAX_GROUP_LEVELS


def choose_and_run(
    frame: pd.DataFrame,
    var_a: str,
    var_b: str | None = None,
    *,
    paired: bool = False,
    mu: float = 0.0,
) -> HypothesisResult:
    """Pick and run the right test for ``var_a`` (and ``var_b``) from their types."""
    import numpy as np

    names = [var_a] if var_b is None else [var_a, var_b]
    require_columns(frame, names)
    kinds = [column_kind(frame[c]) for c in names]
    if "datetime" in kinds:
        raise DataError(
            "datetime column", user_message="Tests need numeric or categorical columns, not dates."
        )
    if var_b is None:
        need(
            kinds[0] == "numeric",
            f'"{var_a}" is not numeric; pick a second column to compare it with',
        )
        result = one_sample(_values(frame[var_a]), var_a, mu)
    elif paired:
        need(kinds == ["numeric", "numeric"], "a paired test needs two numeric columns")
        a = frame[var_a].to_numpy(dtype=float, na_value=np.nan)
        b = frame[var_b].to_numpy(dtype=float, na_value=np.nan)
        ok = np.isfinite(a) & np.isfinite(b)
        result = paired_test(a[ok], b[ok], var_a, var_b)
    elif kinds == ["categorical", "categorical"]:
        both = frame[[var_a, var_b]].dropna()
        return contingency(both[var_a], both[var_b], var_a, var_b)
    else:
        grouping = [_is_grouping(frame[c]) for c in names]
        if all(grouping) and kinds == ["numeric", "numeric"]:
            # Two small-integer columns (a 0/1 arm and a 1-5 rating): the one with fewer
            # distinct values is the grouping; with equally many, compare them as samples.
            levels = [frame[c].nunique() for c in names]
            grouping = [levels[0] < levels[1], levels[1] < levels[0]]
        if grouping[0] != grouping[1]:
            factor, value = (var_a, var_b) if grouping[0] else (var_b, var_a)
            need(column_kind(frame[value]) == "numeric", f'"{value}" is not numeric')
            samples = _grouped(frame, factor, value)
            labels = list(samples)
            if len(samples) == 2:
                result = two_sample(
                    samples[labels[0]],
                    samples[labels[1]],
                    f"group {labels[0]}",
                    f"group {labels[1]}",
                    value,
                )
            else:
                result = k_sample(samples, value, factor)
        elif not any(grouping) or kinds == ["numeric", "numeric"]:
            result = two_sample(_values(frame[var_a]), _values(frame[var_b]), var_a, var_b, "")
        else:
            both = frame[[var_a, var_b]].dropna()
            return contingency(both[var_a], both[var_b], var_a, var_b)
    return HypothesisResult(**{**result.__dict__, "variables": names})


def _grouped(frame: pd.DataFrame, factor: str, value: str) -> dict[str, Array]:
    import numpy as np

    values = frame[value].to_numpy(dtype=float, na_value=np.nan)
    keep = frame[factor].notna().to_numpy() & np.isfinite(values)
    levels = frame[factor][keep]
    out = {
        str(level): values[keep][(levels == level).to_numpy()]
        for level in sorted(levels.unique(), key=str)
    }
    need(len(out) >= 2, f'"{factor}" has fewer than two groups with data')
    need(len(out) <= 50, f'"{factor}" has {len(out)} groups; at most 50 can be compared')
    return out
