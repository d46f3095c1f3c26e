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

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from statbot.analysis import _phrases as say
from statbot.analysis import effects
from statbot.analysis._frame import column_kind, nan_to_none, require_columns
from statbot.analysis.describe import moments
from statbot.errors import DataError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

    Array = npt.NDArray[np.float64]

ALPHA = 0.05
MAX_GROUP_LEVELS = 10
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
            "n": self.n,
            "effect_size": self.effect.to_dict() if self.effect else None,
            "groups": {
                g: {k: nan_to_none(v) for k, v in s.items()} for g, s in self.groups.items()
            },
            "assumptions": [a.to_dict() for a in self.assumptions],
            "fallback": self.fallback,
            "variables": list(self.variables),
            "sentence": self.sentence,
        }


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
    from scipy import stats

    res = stats.levene(*samples, center="median")
    p = float(res.pvalue)
    ok = bool(p >= ALPHA) or math.isnan(p)
    return AssumptionCheck(
        "equal variances",
        "Levene (median)",
        float(res.statistic),
        p,
        ok,
        ("similar spread in every group" if ok else "the groups' spreads differ")
        + f" (p = {p:.3g})",
    )


def _summary(values: Array) -> dict[str, float]:
    import numpy as np

    mom = moments(values)
    return {
        "n": float(values.size),
        "mean": mom["mean"],
        "std": mom["std"],
        "median": float(np.median(values)),
    }


def _non_normal(checks: list[AssumptionCheck]) -> str | None:
    failed = [c.name.removeprefix("normality of ") for c in checks if not c.passed]
    if not failed:
        return None
    who = failed[0] if len(failed) == 1 else f"{', '.join(failed[:-1])} and {failed[-1]}"
    return f"{who} {'is' if len(failed) == 1 else 'are'} not normally distributed"


def two_sample(a: Array, b: Array, label_a: str, label_b: str, what: str) -> HypothesisResult:
    from scipy import stats

    _need(a.size >= 2 and b.size >= 2, "each group needs at least two values")
    checks = [normality(a, label_a), normality(b, label_b), equal_variances([a, b])]
    groups = {label_a: _summary(a), label_b: _summary(b)}
    reason = _non_normal(checks[:2])
    n = a.size + b.size
    if reason is None:
        res = stats.ttest_ind(a, b, equal_var=False)
        pooled = stats.ttest_ind(a, b, equal_var=True)  # Hedges' g is defined with the pooled SD
        g = effects.standardized_mean_difference(
            float(pooled.statistic),
            n - 2,
            math.sqrt(1 / a.size + 1 / b.size),
            hedges=True,
            name="Hedges' g",
        )
        t, p, df = float(res.statistic), float(res.pvalue), float(res.df)
        sentence = say.compare_means(
            what, label_a, label_b, groups, say.Outcome(p, f"Welch t = {say.num(t)}", g)
        )
        return HypothesisResult(
            "Welch two-sample t-test", "t", t, p, n, sentence, g, df, groups, checks
        )
    res = stats.mannwhitneyu(a, b, alternative="two-sided")
    r = effects.rank_biserial_independent(float(res.statistic), a.size, b.size)
    u, p = float(res.statistic), float(res.pvalue)
    out = say.Outcome(p, f"Mann-Whitney U = {say.num(u)}", r, reason)
    sentence = say.compare_ranks(what, label_a, label_b, groups, out)
    return HypothesisResult(
        "Mann-Whitney U test",
        "U",
        u,
        p,
        n,
        sentence,
        r,
        None,
        groups,
        checks,
        f"Mann-Whitney instead of a t-test because {reason}",
    )


def one_sample(x: Array, label: str, mu: float) -> HypothesisResult:
    from scipy import stats

    _need(x.size >= 2, "at least two values are needed")
    checks = [normality(x, label)]
    groups = {label: _summary(x)}
    reason = _non_normal(checks)
    if reason is None:
        res = stats.ttest_1samp(x, mu)
        t, p = float(res.statistic), float(res.pvalue)
        d = effects.standardized_mean_difference(
            t, x.size - 1, 1 / math.sqrt(x.size), hedges=False, name="Cohen's d"
        )
        out = say.Outcome(p, f"one-sample t = {say.num(t)}", d)
        sentence = say.against_value(label, groups[label]["mean"], "mean", mu, out)
        return HypothesisResult(
            "one-sample t-test", "t", t, p, x.size, sentence, d, x.size - 1.0, groups, checks
        )
    _need(bool((x != mu).any()), f"every value equals {mu}")
    res = stats.wilcoxon(x - mu)
    w, p = float(res.statistic), float(res.pvalue)
    r = effects.rank_biserial_paired(x - mu)
    out = say.Outcome(p, f"Wilcoxon W = {say.num(w)}", r, reason)
    sentence = say.against_value(label, groups[label]["median"], "median", mu, out)
    return HypothesisResult(
        "Wilcoxon signed-rank test",
        "W",
        w,
        p,
        x.size,
        sentence,
        r,
        None,
        groups,
        checks,
        f"Wilcoxon signed-rank instead of a t-test because {reason}",
    )


def paired_test(a: Array, b: Array, label_a: str, label_b: str) -> HypothesisResult:
    from scipy import stats

    _need(a.size >= 2, "at least two complete pairs are needed")
    diff = a - b
    label = f"the differences {label_a} − {label_b}"
    checks = [normality(diff, label)]
    groups = {label_a: _summary(a), label_b: _summary(b), "difference": _summary(diff)}
    reason = _non_normal(checks)
    if reason is None:
        res = stats.ttest_rel(a, b)
        t, p = float(res.statistic), float(res.pvalue)
        d = effects.standardized_mean_difference(
            t, a.size - 1, 1 / math.sqrt(a.size), hedges=False, name="Cohen's d_z"
        )
        out = say.Outcome(p, f"paired t = {say.num(t)}", d)
        sentence = say.paired(label_a, label_b, groups["difference"]["mean"], "mean", out)
        return HypothesisResult(
            "paired t-test", "t", t, p, a.size, sentence, d, a.size - 1.0, groups, checks
        )
    _need(bool((diff != 0).any()), "every pair is identical")
    res = stats.wilcoxon(a, b)
    w, p = float(res.statistic), float(res.pvalue)
    r = effects.rank_biserial_paired(diff)
    out = say.Outcome(p, f"Wilcoxon W = {say.num(w)}", r, reason)
    sentence = say.paired(label_a, label_b, groups["difference"]["median"], "median", out)
    return HypothesisResult(
        "Wilcoxon signed-rank test (paired)",
        "W",
        w,
        p,
        a.size,
        sentence,
        r,
        None,
        groups,
        checks,
        f"Wilcoxon signed-rank instead of a paired t-test because {reason}",
    )


def k_sample(samples: dict[str, Array], what: str, factor: str) -> HypothesisResult:
    from scipy import stats

    from statbot.analysis.anova import anova_values

    _need(all(s.size >= 2 for s in samples.values()), "each group needs at least two values")
    arrays = list(samples.values())
    checks = [normality(s, f"group {g}") for g, s in samples.items()] + [equal_variances(arrays)]
    groups = {g: _summary(s) for g, s in samples.items()}
    n = sum(s.size for s in arrays)
    reason = _non_normal(checks[:-1]) or (
        None if checks[-1].passed else "the groups' variances differ"
    )
    if reason is None:
        res = anova_values({g: s.tolist() for g, s in samples.items()})
        eta = effects.eta_squared(
            res.f_statistic,
            res.df_between,
            res.df_within,
            res.ss_between,
            res.ss_between + res.ss_within,
        )
        stat = f"F({res.df_between}, {res.df_within}) = {say.num(res.f_statistic)}"
        sentence = say.k_groups(what, factor, groups, "mean", say.Outcome(res.p_value, stat, eta))
        return HypothesisResult(
            "one-way ANOVA",
            "F",
            res.f_statistic,
            res.p_value,
            n,
            sentence,
            eta,
            float(res.df_between),
            groups,
            checks,
        )
    res_h = stats.kruskal(*arrays)
    h, p = float(res_h.statistic), float(res_h.pvalue)
    eps = effects.epsilon_squared(arrays, h)
    out = say.Outcome(p, f"Kruskal-Wallis H = {say.num(h)}", eps, reason)
    sentence = say.k_groups(what, factor, groups, "median", out)
    return HypothesisResult(
        "Kruskal-Wallis test",
        "H",
        h,
        p,
        n,
        sentence,
        eps,
        len(arrays) - 1.0,
        groups,
        checks,
        f"Kruskal-Wallis instead of ANOVA because {reason}",
    )


def contingency(a: pd.Series, b: pd.Series, name_a: str, name_b: str) -> HypothesisResult:
    import pandas as pd
    from scipy import stats

    table = pd.crosstab(a.astype(str), b.astype(str))
    _need(
        table.shape[0] >= 2 and table.shape[1] >= 2,
        "each column needs at least two different values",
    )
    counts = table.to_numpy()
    res = stats.chi2_contingency(counts, correction=False)
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
    if small and counts.shape == (2, 2):
        fisher = stats.fisher_exact(counts)
        orr = effects.odds_ratio(counts.tolist())
        p = float(fisher.pvalue)
        reason = f"an expected count is below 5 ({expected_min:.2g})"
        out = say.Outcome(p, "Fisher's exact test", orr, reason)
        sentence = say.association(name_a, name_b, out)
        return HypothesisResult(
            "Fisher's exact test",
            "odds ratio",
            orr.value,
            p,
            n,
            sentence,
            orr,
            None,
            groups,
            [check],
            f"Fisher's exact test instead of chi-square because {reason}",
            [name_a, name_b],
        )
    chi2, p, dof = float(res.statistic), float(res.pvalue), int(res.dof)
    v = effects.cramers_v(chi2, dof, n, *counts.shape)
    caveat = (
        None if not small else "some expected counts are below 5, so this p-value is approximate"
    )
    out = say.Outcome(p, f"chi-square({dof}) = {say.num(chi2)}", v, caveat)
    sentence = say.association(name_a, name_b, out)
    return HypothesisResult(
        "chi-square test of independence",
        "chi2",
        chi2,
        p,
        n,
        sentence,
        v,
        float(dof),
        groups,
        [check],
        None,
        [name_a, name_b],
    )


def _need(ok: bool, why: str) -> None:
    if not ok:
        raise DataError(why, user_message=f"This test cannot be run: {why}.")


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
        _need(
            kinds[0] == "numeric",
            f'"{var_a}" is not numeric; pick a second column to compare it with',
        )
        result = one_sample(_values(frame[var_a]), var_a, mu)
    elif paired:
        _need(kinds == ["numeric", "numeric"], "a paired test needs two numeric columns")
        a = frame[var_a].to_numpy(dtype=float, na_value=np.nan)
        b = frame[var_b].to_numpy(dtype=float, na_value=np.nan)
        ok = np.isfinite(a) & np.isfinite(b)
        result = paired_test(a[ok], b[ok], var_a, var_b)
    elif kinds == ["categorical", "categorical"]:
        both = frame[[var_a, var_b]].dropna()
        return contingency(both[var_a], both[var_b], var_a, var_b)
    else:
        grouping = [_is_grouping(frame[c]) for c in names]
        if grouping[0] != grouping[1]:
            factor, value = (var_a, var_b) if grouping[0] else (var_b, var_a)
            _need(column_kind(frame[value]) == "numeric", f'"{value}" is not numeric')
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
    _need(len(out) >= 2, f'"{factor}" has fewer than two groups with data')
    _need(len(out) <= 50, f'"{factor}" has {len(out)} groups; at most 50 can be compared')
    return out
