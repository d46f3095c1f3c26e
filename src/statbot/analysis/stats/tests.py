"""Hypothesis tests chosen from the variable types, with assumption checks and fallbacks.

``choose_and_run(frame, var_a, var_b=None)`` picks the test:

- one numeric column: one-sample t against ``mu`` (Wilcoxon signed-rank if not normal);
- two numeric columns, ``paired=True``: paired t on the differences (Wilcoxon if not normal);
  two numeric columns that look paired (:func:`paired_hint`) but were not asked as such get a
  note saying so;
- numeric + grouping column (text, boolean, or an integer column with ≤ 10 values), or two
  numeric columns compared as independent samples: Welch t for two groups (Mann-Whitney if a
  group is not normal); for more groups statbot.analysis.stats.ksample (ANOVA or Welch's
  ANOVA with post-hoc pairs; Kruskal-Wallis only when asked, ``method="ranks"``);
- two categorical columns: statbot.analysis.stats.crosstab (the table with percentages,
  chi-square, Fisher's exact test or a Monte-Carlo p-value when expected counts are small).

``method`` is ``auto`` (as above), ``means`` or ``ranks`` (the user's choice of the t-test /
ANOVA family or the rank tests; a choice, so no "instead of" is said).

Normality: Shapiro-Wilk for n ≤ 5000, D'Agostino-Pearson above. Shapiro rejects harmless
departures in big samples, so with every group ≥ 200 and |skew| < 1 the parametric test is kept
(central limit theorem) and the check says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from statbot.analysis.frames import column_kind, require_columns
from statbot.analysis.stats.compare import one_sample, paired_test, two_sample
from statbot.analysis.stats.crosstab import contingency
from statbot.analysis.stats.hypothesis import AssumptionCheck, HypothesisResult, need, normality
from statbot.analysis.stats.ksample import k_sample
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
    "comparison",
    "contingency",
    "grouped_values",
    "k_sample",
    "normality",
    "one_sample",
    "paired_hint",
    "paired_test",
    "two_sample",
]

MAX_GROUP_LEVELS = 10
METHODS = ("auto", "means", "ranks")
# Name pairs that say "the same thing measured twice" (issue 11: suggest the paired test).
_PAIR_WORDS = (
    {"before", "after"},
    {"pre", "post"},
    {"baseline", "followup"},
    {"first", "second"},
    {"start", "end"},
    {"old", "new"},
)


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


def _differing_parts(a: str, b: str) -> tuple[str, str]:
    """The one word in which two names differ ("weight_before"/"weight_after" → before,
    after; "score1"/"score2" → 1, 2), or ("", "") when they differ in more or none."""
    import re

    def words(name: str) -> list[str]:
        return re.findall(r"[a-z]+|\d+", name.lower())

    x, y = words(a), words(b)
    if len(x) != len(y):
        return "", ""
    differ = [(u, v) for u, v in zip(x, y, strict=True) if u != v]
    return differ[0] if len(differ) == 1 else ("", "")


def paired_hint(frame: pd.DataFrame, var_a: str, var_b: str) -> str | None:
    """Why ``var_a`` and ``var_b`` look like two measurements of the same rows, or None.

    Both numeric, values in the same rows (equal length once missing values are dropped), and
    names that differ only by a before/after-style word or a number (``score_1``/``score_2``).
    """
    import numpy as np

    if var_a == var_b or any(column_kind(frame[c]) != "numeric" for c in (var_a, var_b)):
        return None
    a = np.isfinite(frame[var_a].to_numpy(dtype=float, na_value=np.nan))
    b = np.isfinite(frame[var_b].to_numpy(dtype=float, na_value=np.nan))
    if int(a.sum()) < 2 or not np.array_equal(a, b):
        return None
    x, y = _differing_parts(var_a, var_b)
    if {x, y} in _PAIR_WORDS or (x.isdigit() and y.isdigit()):
        return (
            f'"{var_a}" and "{var_b}" have values in the same {int(a.sum())} rows and their '
            "names look like two measurements of the same thing"
        )
    return None


def choose_and_run(
    frame: pd.DataFrame,
    var_a: str,
    var_b: str | None = None,
    *,
    paired: bool = False,
    mu: float = 0.0,
    method: str = "auto",
) -> HypothesisResult:
    """Pick and run the right test for ``var_a`` (and ``var_b``) from their types."""
    import numpy as np

    if method not in METHODS:
        raise DataError(
            f"unknown method {method!r}",
            user_message="The method must be auto, means (t-test/ANOVA) or ranks.",
        )
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
        result = one_sample(_values(frame[var_a]), var_a, mu, method)
    elif paired:
        need(kinds == ["numeric", "numeric"], "a paired test needs two numeric columns")
        a = frame[var_a].to_numpy(dtype=float, na_value=np.nan)
        b = frame[var_b].to_numpy(dtype=float, na_value=np.nan)
        ok = np.isfinite(a) & np.isfinite(b)
        result = paired_test(a[ok], b[ok], var_a, var_b, method)
    else:
        kind, factor, value = comparison(frame, var_a, var_b)
        if kind == "crosstab":
            both = frame[[var_a, var_b]].dropna()
            return contingency(both[var_a], both[var_b], var_a, var_b)
        if kind == "groups":
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
                    method=method,
                )
            else:
                result = k_sample(samples, value, factor, method)
        else:
            result = two_sample(
                _values(frame[var_a]), _values(frame[var_b]), var_a, var_b, "", method=method
            )
            hint = paired_hint(frame, var_a, var_b)
            if hint:
                note = (
                    f"{hint[0].upper()}{hint[1:]}; if so, the paired test compares them row by row."
                )
                result = HypothesisResult(**{**result.__dict__, "notes": [*result.notes, note]})
    return HypothesisResult(**{**result.__dict__, "variables": names})


def comparison(frame: pd.DataFrame, var_a: str, var_b: str) -> tuple[str, str, str]:
    """How two columns are compared, unpaired: ("groups", factor, value) — the values of one
    column per level of the other; ("samples", a, b) — two numeric columns as independent
    samples; ("crosstab", a, b) — two categories."""
    kinds = [column_kind(frame[c]) for c in (var_a, var_b)]
    if kinds == ["categorical", "categorical"]:
        return "crosstab", var_a, var_b
    grouping = [_is_grouping(frame[c]) for c in (var_a, var_b)]
    if all(grouping) and kinds == ["numeric", "numeric"]:
        # Two small-integer columns (a 0/1 arm and a 1-5 rating): the one with fewer
        # distinct values is the grouping; with equally many, compare them as samples.
        levels = [frame[c].nunique() for c in (var_a, var_b)]
        grouping = [levels[0] < levels[1], levels[1] < levels[0]]
    if grouping[0] != grouping[1]:
        return ("groups", var_a, var_b) if grouping[0] else ("groups", var_b, var_a)
    if not any(grouping) or kinds == ["numeric", "numeric"]:
        return "samples", var_a, var_b
    return "crosstab", var_a, var_b


def grouped_values(frame: pd.DataFrame, factor: str, value: str) -> dict[str, Array]:
    """The finite values of ``value`` per level of ``factor`` (levels sorted), as tested."""
    return _grouped(frame, factor, value)


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
