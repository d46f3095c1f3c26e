"""Result types and assumption checks shared by the hypothesis tests (statbot.analysis.stats.tests).

Normality: Shapiro-Wilk for n ≤ 5000, D'Agostino-Pearson above. Shapiro rejects harmless
departures in big samples, so with n ≥ 200 and |skew| < 1 the check passes with a note (the
central limit theorem makes means reliable) rather than forcing a rank test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from statbot.analysis.frames import nan_to_none
from statbot.analysis.stats import effects
from statbot.analysis.stats.describe import moments
from statbot.errors import DataError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

    from statbot.analysis.stats.crosstab import Crosstab
    from statbot.analysis.stats.posthoc import PostHoc

    Array = npt.NDArray[np.float64]

ALPHA = 0.05
_CLT_N = 200


@dataclass(frozen=True)
class AssumptionCheck:
    name: str
    test: str
    statistic: float
    p_value: float
    passed: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "test": self.test,
            "statistic": nan_to_none(self.statistic),
            "p_value": nan_to_none(self.p_value),
            "passed": self.passed,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class HypothesisResult:
    test: str
    statistic_name: str
    statistic: float
    p_value: float
    n: int
    sentence: str
    effect: effects.EffectSize | None = None
    df: float | None = None
    groups: dict[str, dict[str, float]] = field(default_factory=dict)
    assumptions: list[AssumptionCheck] = field(default_factory=list)
    fallback: str | None = None
    variables: list[str] = field(default_factory=list)
    # What a data person reads beside the test (issue 11): the post-hoc pairs of a k-group
    # comparison, the contingency table of two categories, further effect sizes, notes in
    # words, and the other method the user may choose ("ranks" or "means").
    posthoc: PostHoc | None = None
    crosstab: Crosstab | None = None
    other_effects: list[effects.EffectSize] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    method: str = "auto"
    alternative: str | None = None
    df2: float | None = None  # the denominator df of an F test

    @property
    def significant(self) -> bool:
        return self.p_value < ALPHA

    def to_dict(self) -> dict[str, Any]:
        return {
            "test": self.test,
            "statistic_name": self.statistic_name,
            "statistic": nan_to_none(self.statistic),
            "p_value": nan_to_none(self.p_value),
            "df": nan_to_none(self.df),
            "df2": nan_to_none(self.df2),
            "n": self.n,
            "effect_size": self.effect.to_dict() if self.effect else None,
            "groups": {
                g: {k: nan_to_none(v) for k, v in s.items()} for g, s in self.groups.items()
            },
            "assumptions": [a.to_dict() for a in self.assumptions],
            "fallback": self.fallback,
            "variables": list(self.variables),
            "sentence": self.sentence,
            "posthoc": self.posthoc.to_dict() if self.posthoc else None,
            "crosstab": self.crosstab.to_dict() if self.crosstab else None,
            "other_effects": [e.to_dict() for e in self.other_effects],
            "notes": list(self.notes),
            "method": self.method,
            "alternative": self.alternative,
        }

    def to_frame(self) -> pd.DataFrame:
        """One row: test, statistic, p-value, effect size and CI, n, fallback, sentence."""
        import pandas as pd

        e = self.effect
        return pd.DataFrame(
            [
                {
                    "test": self.test,
                    "statistic_name": self.statistic_name,
                    "statistic": self.statistic,
                    "df": self.df,
                    "p_value": self.p_value,
                    "n": self.n,
                    "effect_size": e.name if e else None,
                    "effect_value": e.value if e else None,
                    "effect_ci_low": e.ci_low if e else None,
                    "effect_ci_high": e.ci_high if e else None,
                    "fallback": self.fallback,
                    "sentence": self.sentence,
                }
            ]
        )


def normality(values: Array, label: str) -> AssumptionCheck:
    """Shapiro-Wilk (n ≤ 5000) or D'Agostino-Pearson (n > 5000) at α = 0.05."""
    from scipy import stats

    n = values.size
    if n < 3 or float(values.min()) == float(values.max()):
        return AssumptionCheck(
            f"normality of {label}",
            "none",
            math.nan,
            math.nan,
            True,
            "too few distinct values to check",
        )
    res = stats.shapiro(values) if n <= 5000 else stats.normaltest(values)
    test = "Shapiro-Wilk" if n <= 5000 else "D'Agostino-Pearson"
    p = float(res.pvalue)
    passed = p >= ALPHA
    detail = "consistent with a normal distribution" if passed else "not normally distributed"
    skew = moments(values)["skew"]
    if not passed and n >= _CLT_N and abs(skew) < 1:
        passed, detail = (
            True,
            f"departs from normal, but n = {n} and skew {skew:.2f}: means are still reliable",
        )
    return AssumptionCheck(
        f"normality of {label}", test, float(res.statistic), p, passed, f"{detail} (p = {p:.3g})"
    )


def equal_variances(samples: list[Array]) -> AssumptionCheck:
    """Levene's test centred on the median, i.e. the Brown-Forsythe test (robust to skew)."""
    from scipy import stats

    res = stats.levene(*samples, center="median")
    p = float(res.pvalue)
    ok = bool(p >= ALPHA) or math.isnan(p)
    return AssumptionCheck(
        "equal variances",
        "Brown-Forsythe (Levene, median-centred)",
        float(res.statistic),
        p,
        ok,
        ("similar spread in every group" if ok else "the groups' spreads differ")
        + f" (p = {p:.3g})",
    )


def summary(values: Array) -> dict[str, float]:
    """n, mean, sd, median and the 95% t-interval of the mean (the group table's row)."""
    import numpy as np
    from scipy import stats

    mom = moments(values)
    n = values.size
    half = math.nan
    if n >= 2 and math.isfinite(mom["std"]):
        half = float(stats.t.ppf(0.975, n - 1)) * mom["std"] / math.sqrt(n)
    return {
        "n": float(n),
        "mean": mom["mean"],
        "std": mom["std"],
        "median": float(np.median(values)) if n else math.nan,
        "ci_low": mom["mean"] - half,
        "ci_high": mom["mean"] + half,
    }


def non_normal_reason(checks: list[AssumptionCheck]) -> str | None:
    failed = [c.name.removeprefix("normality of ") for c in checks if not c.passed]
    if not failed:
        return None
    who = failed[0] if len(failed) == 1 else f"{', '.join(failed[:-1])} and {failed[-1]}"
    return f"{who} {'is' if len(failed) == 1 else 'are'} not normally distributed"


def need(ok: bool, why: str) -> None:
    if not ok:
        raise DataError(why, user_message=f"This test cannot be run: {why}.")
