"""Effect sizes with 95% confidence intervals for the tests in statbot.analysis.stats.tests.

CIs invert the noncentral distribution of the test statistic where one exists (Steiger &
Fouladi 1997; Smithson 2003): noncentral t for Cohen's d / Hedges' g, noncentral F for eta²,
noncentral chi-square for Cramér's V. Rank-biserial correlations use the Fisher z
transform with the standard errors JASP uses; epsilon² uses a seeded stratified bootstrap;
the 2×2 odds ratio uses the conditional MLE with its exact interval (as Fisher's test).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from statbot.analysis.frames import nan_to_none

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

LEVEL = 0.95
_BOOT = 1000
_SEED = 20_240_601


@dataclass(frozen=True)
class EffectSize:
    name: str
    value: float
    ci_low: float
    ci_high: float
    level: float = LEVEL

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": nan_to_none(self.value),
            "ci_low": nan_to_none(self.ci_low),
            "ci_high": nan_to_none(self.ci_high),
            "level": self.level,
        }


def _root(fn: Callable[[float], float], target: float, start: float, step: float) -> float:
    """Solve fn(x) = target for a function decreasing in x by bracketing from ``start``."""
    from scipy.optimize import brentq

    lo, hi = start - step, start + step
    for _ in range(60):
        if fn(lo) >= target >= fn(hi):
            return float(brentq(lambda v: fn(v) - target, lo, hi, xtol=1e-10))
        lo, hi = lo - step, hi + step
        step *= 2
    return math.nan


def _ncp_interval(
    cdf: Callable[[float], float], observed: float, lower_bound: float | None
) -> tuple[float, float]:
    """Noncentralities putting ``observed`` at the 97.5th / 2.5th percentile of the distribution."""
    alpha = (1 - LEVEL) / 2
    if lower_bound is not None and cdf(lower_bound) < 1 - alpha:
        lo = lower_bound
    else:
        lo = _root(cdf, 1 - alpha, observed, 1.0 + abs(observed) / 4)
    if lower_bound is not None and cdf(lower_bound) < alpha:
        hi = lower_bound
    else:
        hi = _root(cdf, alpha, observed, 1.0 + abs(observed) / 4)
    return lo, hi


def standardized_mean_difference(
    t: float, df: float, scale: float, *, hedges: bool, name: str
) -> EffectSize:
    """d = t·scale with a noncentral-t CI; ``hedges`` applies the exact small-sample factor J."""
    from scipy import special, stats

    def cdf(ncp: float) -> float:
        return float(stats.nct.cdf(t, df, ncp))

    lo, hi = _ncp_interval(cdf, t, None)
    correction = 1.0
    if hedges:
        correction = math.exp(special.gammaln(df / 2) - special.gammaln((df - 1) / 2)) / math.sqrt(
            df / 2
        )
    d = t * scale * correction
    if not (math.isfinite(lo) and math.isfinite(hi)):  # extreme t: large-sample normal interval
        se = math.sqrt(scale**2 + (t * scale) ** 2 / (2 * df))
        lo_d, hi_d = d - 1.959963984540054 * se, d + 1.959963984540054 * se
        return EffectSize(name, d, lo_d, hi_d)
    return EffectSize(name, d, lo * scale * correction, hi * scale * correction)


def _atanh_ci(r: float, se: float, name: str) -> EffectSize:
    from scipy import stats

    z = math.atanh(max(min(r, 1 - 1e-15), -1 + 1e-15))
    q = float(stats.norm.ppf(1 - (1 - LEVEL) / 2))
    return EffectSize(name, r, math.tanh(z - q * se), math.tanh(z + q * se))


def rank_biserial_independent(u1: float, n1: int, n2: int) -> EffectSize:
    """r = 2·U₁/(n₁n₂) − 1, positive when the first sample tends to be larger."""
    r = 2.0 * u1 / (n1 * n2) - 1.0
    return _atanh_ci(r, math.sqrt((n1 + n2 + 1) / (3.0 * n1 * n2)), "rank-biserial r")


def rank_biserial_paired(diff: npt.NDArray[np.float64]) -> EffectSize:
    """Matched-pairs rank-biserial (T⁺ − T⁻)/(T⁺ + T⁻) over the non-zero differences."""
    import numpy as np
    from scipy import stats

    d = diff[diff != 0]
    n = d.size
    if n == 0:
        return EffectSize("matched rank-biserial r", math.nan, math.nan, math.nan)
    ranks = stats.rankdata(np.abs(d))
    t_plus, t_minus = float(ranks[d > 0].sum()), float(ranks[d < 0].sum())
    r = (t_plus - t_minus) / (t_plus + t_minus)
    se = math.sqrt(n * (n + 1) * (2 * n + 1) / 6.0) / (n * (n + 1) / 2.0)
    return _atanh_ci(r, se, "matched rank-biserial r")


def eta_squared(f: float, df1: int, df2: int, ss_between: float, ss_total: float) -> EffectSize:
    from scipy import stats

    n = df1 + df2 + 1
    value = ss_between / ss_total if ss_total > 0 else math.nan
    if not math.isfinite(f):
        return EffectSize("eta²", value, math.nan, math.nan)

    def cdf(ncp: float) -> float:
        return (
            float(stats.ncf.cdf(f, df1, df2, max(ncp, 0.0)))
            if ncp > 0
            else float(stats.f.cdf(f, df1, df2))
        )

    lo, hi = _ncp_interval(cdf, f * df1, 0.0)
    return EffectSize("eta²", value, lo / (lo + n), hi / (hi + n))


def kruskal_h_rows(samples: npt.NDArray[np.float64], sizes: list[int]) -> npt.NDArray[np.float64]:
    """Tie-corrected Kruskal-Wallis H for every row of ``samples`` (groups laid out by ``sizes``).

    Vectorised so the bootstrap below costs one ranking of a (B × N) matrix instead of B calls
    to scipy.stats.kruskal; equal to scipy's H row by row (tests check it).
    """
    import numpy as np
    from scipy import stats

    rows, n = samples.shape
    ranks = stats.rankdata(samples, axis=1)
    edges = np.cumsum([0, *sizes])
    h = np.zeros(rows)
    for lo, hi in itertools.pairwise(edges):
        h += ranks[:, lo:hi].sum(axis=1) ** 2 / (hi - lo)
    h = 12.0 / (n * (n + 1)) * h - 3.0 * (n + 1)
    ordered = np.sort(samples, axis=1)
    starts = np.ones_like(ordered, dtype=bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    flat = np.flatnonzero(starts.ravel())
    lengths = np.diff(np.r_[flat, rows * n]).astype(float)
    ties = np.bincount(flat // n, weights=lengths**3 - lengths, minlength=rows)
    correction = 1.0 - ties / (n**3 - n)
    with np.errstate(divide="ignore", invalid="ignore"):
        out: npt.NDArray[np.float64] = np.where(correction > 0, h / correction, np.nan)
    return out


def epsilon_squared(groups: list[npt.NDArray[np.float64]], h: float) -> EffectSize:
    """ε² = H/(n − 1) with a percentile bootstrap CI (stratified, fixed seed: reproducible)."""
    import numpy as np

    sizes = [g.size for g in groups]
    n = sum(sizes)
    value = h / (n - 1)
    rng = np.random.default_rng(_SEED)
    resampled = np.hstack([g[rng.integers(0, g.size, (_BOOT, g.size))] for g in groups])
    boots = kruskal_h_rows(resampled, sizes) / (n - 1)
    boots = boots[np.isfinite(boots)]
    if boots.size == 0:
        return EffectSize("epsilon²", value, math.nan, math.nan)
    lo, hi = np.quantile(boots, [(1 - LEVEL) / 2, 1 - (1 - LEVEL) / 2])
    return EffectSize("epsilon²", value, float(lo), float(hi))


def cramers_v(chi2: float, df: int, n: int, rows: int, cols: int) -> EffectSize:
    from scipy import stats

    m = min(rows, cols) - 1
    value = math.sqrt(chi2 / (n * m))

    def cdf(ncp: float) -> float:
        return float(stats.ncx2.cdf(chi2, df, ncp)) if ncp > 0 else float(stats.chi2.cdf(chi2, df))

    lo, hi = _ncp_interval(cdf, chi2, 0.0)
    return EffectSize(
        "Cramér's V", value, math.sqrt(lo / (n * m)), min(1.0, math.sqrt(hi / (n * m)))
    )


def odds_ratio(table: list[list[int]]) -> EffectSize:
    from scipy.stats.contingency import odds_ratio as scipy_or

    res = scipy_or(table, kind="conditional")
    ci = res.confidence_interval(confidence_level=LEVEL)
    return EffectSize("odds ratio", float(res.statistic), float(ci.low), float(ci.high))
