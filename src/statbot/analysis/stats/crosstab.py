"""Two categorical columns: the contingency table with row and column percentages, and the test.

- Every expected count ≥ 5: Pearson's chi-square test of independence (no continuity
  correction), Cramér's V with a noncentral chi-square CI.
- An expected count below 5 in a 2×2 table: Fisher's exact test, its conditional odds ratio
  with the exact CI, and Cramér's V (= |phi|) beside it.
- An expected count below 5 in a larger table: the same chi-square statistic, its p-value from
  9,999 random tables with the observed row and column totals (scipy.stats.random_table via
  chi2_contingency's MonteCarloMethod, fixed seed so a result is reproducible). That is the
  conditional reference Fisher's test uses, estimated by simulation, as R's
  ``chisq.test(simulate.p.value = TRUE)`` does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from statbot.analysis.stats import _phrases as say
from statbot.analysis.stats import effects
from statbot.analysis.stats.hypothesis import AssumptionCheck, HypothesisResult, need

if TYPE_CHECKING:
    import pandas as pd

MONTE_CARLO_TABLES = 9_999
_SEED = 20_261_202


@dataclass(frozen=True)
class Crosstab:
    """Counts of ``row_name`` (rows) × ``column_name`` (columns) with the expected counts."""

    row_name: str
    column_name: str
    rows: list[str]
    columns: list[str]
    counts: list[list[int]]
    expected: list[list[float]]

    @property
    def total(self) -> int:
        return sum(sum(r) for r in self.counts)

    def row_percent(self) -> list[list[float]]:
        return [[100.0 * c / sum(r) if sum(r) else math.nan for c in r] for r in self.counts]

    def column_percent(self) -> list[list[float]]:
        totals = [sum(r[j] for r in self.counts) for j in range(len(self.columns))]
        return [
            [100.0 * c / totals[j] if totals[j] else math.nan for j, c in enumerate(r)]
            for r in self.counts
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "row_variable": self.row_name,
            "column_variable": self.column_name,
            "rows": list(self.rows),
            "columns": list(self.columns),
            "counts": [list(r) for r in self.counts],
            "expected": [list(r) for r in self.expected],
            "row_percent": self.row_percent(),
            "column_percent": self.column_percent(),
        }

    def to_frame(self) -> pd.DataFrame:
        """Long format for the CSV: one row per cell with count, expected, row % and column %."""
        import pandas as pd

        row_pct, col_pct = self.row_percent(), self.column_percent()
        return pd.DataFrame(
            [
                {
                    self.row_name: r,
                    self.column_name: c,
                    "count": self.counts[i][j],
                    "expected": self.expected[i][j],
                    "row_percent": row_pct[i][j],
                    "column_percent": col_pct[i][j],
                }
                for i, r in enumerate(self.rows)
                for j, c in enumerate(self.columns)
            ]
        )


def contingency(a: pd.Series, b: pd.Series, name_a: str, name_b: str) -> HypothesisResult:
    import numpy as np
    import pandas as pd
    from scipy import stats

    table = pd.crosstab(a.astype(str), b.astype(str))
    need(
        table.shape[0] >= 2 and table.shape[1] >= 2,
        "each column needs at least two different values",
    )
    counts = table.to_numpy()
    res = stats.chi2_contingency(counts, correction=False)
    crosstab = Crosstab(
        name_a,
        name_b,
        [str(i) for i in table.index],
        [str(c) for c in table.columns],
        counts.astype(int).tolist(),
        res.expected_freq.tolist(),
    )
    expected_min = float(res.expected_freq.min())
    small = expected_min < 5
    check = AssumptionCheck(
        "expected counts ≥ 5",
        "chi-square rule of thumb",
        expected_min,
        math.nan,
        not small,
        f"smallest expected count {expected_min:.3g}",
    )
    n = int(counts.sum())
    groups = {f"{name_a}={i}": {"n": float(table.loc[i].sum())} for i in table.index}
    chi2, dof = float(res.statistic), int(res.dof)
    v = effects.cramers_v(chi2, dof, n, *counts.shape)
    common: dict[str, Any] = {
        "groups": groups,
        "assumptions": [check],
        "variables": [name_a, name_b],
        "crosstab": crosstab,
    }
    if small and counts.shape == (2, 2):
        fisher = stats.fisher_exact(counts)
        orr = effects.odds_ratio(counts.tolist())
        p = float(fisher.pvalue)
        reason = f"an expected count is below 5 ({say.num(expected_min)})"
        out = say.Outcome(p, "Fisher's exact test", orr, reason)
        return HypothesisResult(
            "Fisher's exact test",
            "odds ratio",
            orr.value,
            p,
            n,
            say.association(name_a, name_b, out),
            orr,
            None,
            fallback=f"Fisher's exact test instead of chi-square because {reason}",
            other_effects=[v],
            **common,
        )
    if small:
        method = stats.MonteCarloMethod(
            n_resamples=MONTE_CARLO_TABLES, rng=np.random.default_rng(_SEED)
        )
        p = float(stats.chi2_contingency(counts, correction=False, method=method).pvalue)
        reason = (
            f"an expected count is below 5 ({say.num(expected_min)}), so the p-value comes from "
            f"{MONTE_CARLO_TABLES:,} random tables with the same row and column totals "
            "(Monte-Carlo), not from the chi-square distribution"
        )
        out = say.Outcome(p, f"chi-square = {say.num(chi2)}, Monte-Carlo", v, reason)
        return HypothesisResult(
            "chi-square test of independence (Monte-Carlo p-value)",
            "chi2",
            chi2,
            p,
            n,
            say.association(name_a, name_b, out),
            v,
            float(dof),
            fallback=f"Monte-Carlo p-value instead of the chi-square distribution because {reason}",
            **common,
        )
    p = float(res.pvalue)
    out = say.Outcome(p, f"chi-square({dof}) = {say.num(chi2)}", v)
    return HypothesisResult(
        "chi-square test of independence",
        "chi2",
        chi2,
        p,
        n,
        say.association(name_a, name_b, out),
        v,
        float(dof),
        **common,
    )
