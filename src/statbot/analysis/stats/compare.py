"""The individual hypothesis tests, each with its assumption checks, fallback and sentence.

statbot.analysis.stats.tests.choose_and_run picks among them from the variable types.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from statbot.analysis.stats import _phrases as say
from statbot.analysis.stats import effects
from statbot.analysis.stats.hypothesis import (
    AssumptionCheck,
    HypothesisResult,
    equal_variances,
    need,
    non_normal_reason,
    normality,
    summary,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

    Array = npt.NDArray[np.float64]


def two_sample(a: Array, b: Array, label_a: str, label_b: str, what: str) -> HypothesisResult:
    from scipy import stats

    need(a.size >= 2 and b.size >= 2, "each group needs at least two values")
    checks = [normality(a, label_a), normality(b, label_b), equal_variances([a, b])]
    groups = {label_a: summary(a), label_b: summary(b)}
    reason = non_normal_reason(checks[:2])
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

    need(x.size >= 2, "at least two values are needed")
    checks = [normality(x, label)]
    groups = {label: summary(x)}
    reason = non_normal_reason(checks)
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
    need(bool((x != mu).any()), f"every value equals {mu}")
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

    need(a.size >= 2, "at least two complete pairs are needed")
    diff = a - b
    label = f"the differences {label_a} − {label_b}"
    checks = [normality(diff, label)]
    groups = {label_a: summary(a), label_b: summary(b), "difference": summary(diff)}
    reason = non_normal_reason(checks)
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
    need(bool((diff != 0).any()), "every pair is identical")
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

    from statbot.analysis.stats.anova import anova_values

    need(all(s.size >= 2 for s in samples.values()), "each group needs at least two values")
    arrays = list(samples.values())
    checks = [normality(s, f"group {g}") for g, s in samples.items()] + [equal_variances(arrays)]
    groups = {g: summary(s) for g, s in samples.items()}
    n = sum(s.size for s in arrays)
    reason = non_normal_reason(checks[:-1]) or (
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
    need(
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
