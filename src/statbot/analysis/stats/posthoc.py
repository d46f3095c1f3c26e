"""Pairwise comparisons after a k-group test, with p-values adjusted for the number of pairs.

- Tukey HSD (Tukey-Kramer for unequal group sizes) when the variances are similar: the pooled
  within-group variance and its N − k degrees of freedom for every pair.
- Games-Howell when they differ: each pair keeps its own variances and Welch-Satterthwaite
  degrees of freedom.

Both refer ``|mean_i − mean_j| / se`` to the studentized range distribution with k groups
(scipy.stats.studentized_range), which is what makes the p-values family-wise adjusted.
tests/analysis/test_posthoc.py checks Tukey against statsmodels' pairwise_tukeyhsd and scipy's
tukey_hsd, and Games-Howell against a hand computation.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from statbot.analysis.frames import nan_to_none

if TYPE_CHECKING:
    from statbot.analysis.stats.hypothesis import Array

LEVEL = 0.95
# studentized_range.ppf costs ~0.1 s; Games-Howell needs one per pair (its own df), so the
# comparison stops at 10 groups (45 pairs) and says so instead of making the chat wait.
MAX_GROUPS = 10


@dataclass(frozen=True)
class PairComparison:
    a: str
    b: str
    difference: float  # mean of a − mean of b
    se: float
    df: float
    q: float
    p_adjusted: float
    ci_low: float
    ci_high: float

    def to_dict(self) -> dict[str, Any]:
        return {k: nan_to_none(v) if isinstance(v, float) else v for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class PostHoc:
    method: str
    pairs: list[PairComparison]
    level: float = LEVEL

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "level": self.level,
            "pairs": [p.to_dict() for p in self.pairs],
        }


def _compare(
    k: int, pair: tuple[str, str], diff: float, se: float, *, df: float, crit: float
) -> PairComparison:
    from scipy import stats

    q = abs(diff) / se if se > 0 else math.inf
    p = float(stats.studentized_range.sf(q, k, df)) if math.isfinite(q) else 0.0
    half = crit * se  # se carries the 1/√2 of the studentized range
    return PairComparison(*pair, diff, se, df, q, min(p, 1.0), diff - half, diff + half)


def tukey_hsd(samples: dict[str, Array]) -> PostHoc:
    """Tukey-Kramer: se = √(MS_within/2 · (1/nᵢ + 1/nⱼ)), df = N − k."""
    from scipy import stats

    from statbot.analysis.stats.describe import moments

    labels = list(samples)
    k = len(labels)
    sizes = {g: samples[g].size for g in labels}
    stats_ = {g: moments(samples[g]) for g in labels}
    df = float(sum(sizes.values()) - k)
    ms_within = math.fsum((sizes[g] - 1) * stats_[g]["std"] ** 2 for g in labels) / df
    crit = float(stats.studentized_range.ppf(LEVEL, k, df))
    pairs = [
        _compare(
            k,
            (a, b),
            stats_[a]["mean"] - stats_[b]["mean"],
            math.sqrt(ms_within / 2.0 * (1.0 / sizes[a] + 1.0 / sizes[b])),
            df=df,
            crit=crit,
        )
        for a, b in itertools.combinations(labels, 2)
    ]
    return PostHoc("Tukey HSD", pairs)


def games_howell(samples: dict[str, Array]) -> PostHoc:
    """se = √((sᵢ²/nᵢ + sⱼ²/nⱼ)/2), Welch-Satterthwaite df per pair."""
    from scipy import stats

    from statbot.analysis.stats.describe import moments

    labels = list(samples)
    k = len(labels)
    mom = {g: moments(samples[g]) for g in labels}
    vn = {g: mom[g]["std"] ** 2 / samples[g].size for g in labels}
    pairs = []
    for a, b in itertools.combinations(labels, 2):
        total = vn[a] + vn[b]
        denom = vn[a] ** 2 / (samples[a].size - 1) + vn[b] ** 2 / (samples[b].size - 1)
        df = total**2 / denom if denom > 0 else math.inf
        crit = float(stats.studentized_range.ppf(LEVEL, k, df)) if math.isfinite(df) else math.nan
        pairs.append(
            _compare(
                k, (a, b), mom[a]["mean"] - mom[b]["mean"], math.sqrt(total / 2.0), df=df, crit=crit
            )
        )
    return PostHoc("Games-Howell", pairs)
