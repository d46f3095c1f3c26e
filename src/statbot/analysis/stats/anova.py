"""One-way analysis of variance computed without catastrophic cancellation.

NIST StRD SmLs07-09 hold values such as 1000000000000.4 whose variation sits in the 13th
digit. A float64 cannot hold 1000000000000.4 closer than 6e-5, so squaring deviations of the
stored floats caps accuracy near 3 digits whatever the algorithm. We therefore read every value
as the shortest decimal that round-trips to its float (``repr``; exactly the number the user
wrote when it had ≤ 15 significant digits), subtract a pilot value in exact decimal arithmetic,
and only then go back to floats, whose deviations are now small and exact to ~1e-17. Sums of
squares are then formed by the corrected two-pass method with exactly rounded sums (math.fsum).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from decimal import Decimal, localcontext
from typing import TYPE_CHECKING, Any

from statbot.analysis.frames import column_kind, nan_to_none, require_columns
from statbot.errors import DataError

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class AnovaResult:
    f_statistic: float
    p_value: float
    df_between: int
    df_within: int
    ss_between: float
    ss_within: float
    ms_between: float
    ms_within: float
    r_squared: float
    residual_std_error: float
    n: int
    groups: dict[str, dict[str, float]]

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, float):
                out[key] = nan_to_none(value)
        out["groups"] = {
            g: {k: nan_to_none(v) if isinstance(v, float) else v for k, v in stats.items()}
            for g, stats in self.groups.items()
        }
        return out

    def to_frame(self) -> pd.DataFrame:
        """The ANOVA table (between, within, total) for CSV export."""
        import pandas as pd

        return pd.DataFrame(
            {
                "source": ["between groups", "within groups", "total"],
                "df": [self.df_between, self.df_within, self.df_between + self.df_within],
                "sum_of_squares": [
                    self.ss_between,
                    self.ss_within,
                    self.ss_between + self.ss_within,
                ],
                "mean_square": [self.ms_between, self.ms_within, math.nan],
                "f": [self.f_statistic, math.nan, math.nan],
                "p_value": [self.p_value, math.nan, math.nan],
            }
        )


_DECIMAL_ALWAYS = 200_000  # below this many values the exact path costs < 1 s
_OFFSET_RATIO = 100.0  # max |value| / range above which float deviations would lose digits


def shifted(values: list[float]) -> tuple[Decimal, list[float]]:
    """(pilot, values - pilot) with the subtraction done exactly in decimal.

    Large inputs whose values are not far from zero relative to their range skip the decimal
    step (it costs ~5 s per million values): there the float subtraction loses < 2 digits.
    """
    if len(values) > _DECIMAL_ALWAYS:
        import numpy as np

        arr = np.asarray(values, dtype=float)
        spread = float(arr.max() - arr.min())
        if spread > 0 and float(np.abs(arr).max()) / spread < _OFFSET_RATIO:
            return Decimal(repr(values[0])), (arr - values[0]).tolist()
    with localcontext() as ctx:
        ctx.prec = 60
        decimals = [Decimal(repr(v)) for v in values]
        pilot = decimals[0]
        return pilot, [float(d - pilot) for d in decimals]


def _mean(values: list[float]) -> float:
    first = math.fsum(values) / len(values)
    return first + math.fsum(v - first for v in values) / len(values)


def _ss(values: list[float], centre: float) -> float:
    """Corrected two-pass sum of squared deviations."""
    dev = [v - centre for v in values]
    s1 = math.fsum(dev)
    return max(math.fsum(d * d for d in dev) - s1 * s1 / len(values), 0.0)


def anova_values(groups: dict[str, list[float]]) -> AnovaResult:
    """One-way ANOVA of already-grouped finite values (at least two groups, N > k)."""
    from scipy import stats

    groups = {g: v for g, v in groups.items() if v}
    k = len(groups)
    n = sum(len(v) for v in groups.values())
    if k < 2:
        raise DataError(
            "fewer than two groups", user_message="ANOVA needs at least two groups with data."
        )
    if n <= k:
        raise DataError(
            "no within-group replication",
            user_message=(
                "ANOVA needs more observations than groups "
                "(some group must have two or more values)."
            ),
        )
    labels = list(groups)
    flat = [v for g in labels for v in groups[g]]
    pilot, dev = shifted(flat)
    parts: dict[str, list[float]] = {}
    start = 0
    for g in labels:
        parts[g] = dev[start : start + len(groups[g])]
        start += len(groups[g])
    grand = _mean(dev)
    means = {g: _mean(v) for g, v in parts.items()}
    ss_within = math.fsum(_ss(v, means[g]) for g, v in parts.items())
    ss_between = math.fsum(len(parts[g]) * (means[g] - grand) ** 2 for g in labels)
    df_b, df_w = k - 1, n - k
    ms_b, ms_w = ss_between / df_b, ss_within / df_w
    total = ss_between + ss_within
    if ms_w > 0:
        f = ms_b / ms_w
        p = float(stats.f.sf(f, df_b, df_w))
    else:
        f = math.inf if ms_b > 0 else math.nan
        p = 0.0 if ms_b > 0 else math.nan
    summary = {
        g: {
            "n": len(parts[g]),
            "mean": float(pilot + Decimal(repr(means[g]))),
            "std": math.sqrt(_ss(parts[g], means[g]) / (len(parts[g]) - 1))
            if len(parts[g]) > 1
            else math.nan,
        }
        for g in labels
    }
    return AnovaResult(
        f_statistic=f,
        p_value=p,
        df_between=df_b,
        df_within=df_w,
        ss_between=ss_between,
        ss_within=ss_within,
        ms_between=ms_b,
        ms_within=ms_w,
        r_squared=ss_between / total if total > 0 else math.nan,
        residual_std_error=math.sqrt(ms_w),
        n=n,
        groups=summary,
    )


def group_values(frame: pd.DataFrame, group: str, value: str) -> dict[str, list[float]]:
    """Finite values of ``value`` per level of ``group`` (levels in order of appearance)."""
    require_columns(frame, [group, value])
    if column_kind(frame[value]) != "numeric":
        raise DataError(
            f"{value} is not numeric", user_message=f'"{value}" must be a numeric column.'
        )
    import numpy as np

    values = frame[value].to_numpy(dtype=float, na_value=np.nan)
    levels = frame[group]
    keep = levels.notna().to_numpy() & np.isfinite(values)
    out: dict[str, list[float]] = {}
    for level, v in zip(levels[keep].tolist(), values[keep].tolist(), strict=True):
        out.setdefault(str(level), []).append(v)
    return out


def anova_oneway(frame: pd.DataFrame, group: str, value: str) -> AnovaResult:
    """One-way ANOVA of ``value`` across the levels of ``group``."""
    return anova_values(group_values(frame, group, value))
