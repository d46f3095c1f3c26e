"""The individual hypothesis tests, each with its assumption checks and sentence.

statbot.analysis.stats.tests.choose_and_run picks among them from the variable types. A failed
normality check does not switch to the rank test (issue 11, as for k groups in ksample.py): the
rank test answers another question (does one side tend to be larger?), and with a moderate
sample the t-test holds up; the result says which check failed and names the rank test, which
the user may choose (``method="ranks"``: the chat's button, ``--method ranks``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from statbot.analysis.stats import _phrases as say
from statbot.analysis.stats import effects
from statbot.analysis.stats.hypothesis import (
    HypothesisResult,
    equal_variances,
    need,
    non_normal_reason,
    normality,
    summary,
)

if TYPE_CHECKING:
    from statbot.analysis.stats.hypothesis import Array


def _choose(method: str, reason: str | None, rank_test: str) -> tuple[bool, list[str]]:
    """(use the means test, notes): the means test unless the user chose ranks; a failed
    normality check (``reason``) becomes a note naming the rank test as the option."""
    if method == "ranks":
        return False, []
    if reason is None:
        return True, []
    return True, [
        f"{reason[0].upper()}{reason[1:]}: the comparison of means may be off; the rank test "
        f"({rank_test}) is available as an option."
    ]


def two_sample(
    a: Array, b: Array, label_a: str, label_b: str, what: str, *, method: str = "auto"
) -> HypothesisResult:
    from scipy import stats

    need(a.size >= 2 and b.size >= 2, "each group needs at least two values")
    checks = [normality(a, label_a), normality(b, label_b), equal_variances([a, b])]
    groups = {label_a: summary(a), label_b: summary(b)}
    means, notes = _choose(method, non_normal_reason(checks[:2]), "Mann-Whitney U")
    n = a.size + b.size
    if means:
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
            "Welch two-sample t-test",
            "t",
            t,
            p,
            n,
            sentence,
            g,
            df,
            groups,
            checks,
            notes=notes,
            method="means",
            alternative="ranks",
        )
    res = stats.mannwhitneyu(a, b, alternative="two-sided")
    r = effects.rank_biserial_independent(float(res.statistic), a.size, b.size)
    u, p = float(res.statistic), float(res.pvalue)
    out = say.Outcome(p, f"Mann-Whitney U = {say.num(u)}", r)
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
        None,
        method="ranks",
        alternative="means",
    )


def one_sample(x: Array, label: str, mu: float, method: str = "auto") -> HypothesisResult:
    from scipy import stats

    need(x.size >= 2, "at least two values are needed")
    checks = [normality(x, label)]
    groups = {label: summary(x)}
    means, notes = _choose(method, non_normal_reason(checks), "Wilcoxon signed-rank")
    if means:
        res = stats.ttest_1samp(x, mu)
        t, p = float(res.statistic), float(res.pvalue)
        d = effects.standardized_mean_difference(
            t, x.size - 1, 1 / math.sqrt(x.size), hedges=False, name="Cohen's d"
        )
        out = say.Outcome(p, f"one-sample t = {say.num(t)}", d)
        sentence = say.against_value(label, groups[label]["mean"], "mean", mu, out)
        return HypothesisResult(
            "one-sample t-test",
            "t",
            t,
            p,
            x.size,
            sentence,
            d,
            x.size - 1.0,
            groups,
            checks,
            notes=notes,
            method="means",
            alternative="ranks",
        )
    need(bool((x != mu).any()), f"every value equals {mu}")
    res = stats.wilcoxon(x - mu)
    w, p = float(res.statistic), float(res.pvalue)
    r = effects.rank_biserial_paired(x - mu)
    out = say.Outcome(p, f"Wilcoxon W = {say.num(w)}", r)
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
        None,
        method="ranks",
        alternative="means",
    )


def paired_test(
    a: Array, b: Array, label_a: str, label_b: str, method: str = "auto"
) -> HypothesisResult:
    from scipy import stats

    need(a.size >= 2, "at least two complete pairs are needed")
    diff = a - b
    label = f"the differences {label_a} − {label_b}"
    checks = [normality(diff, label)]
    groups = {label_a: summary(a), label_b: summary(b), "difference": summary(diff)}
    means, notes = _choose(method, non_normal_reason(checks), "Wilcoxon signed-rank")
    if means:
        res = stats.ttest_rel(a, b)
        t, p = float(res.statistic), float(res.pvalue)
        d = effects.standardized_mean_difference(
            t, a.size - 1, 1 / math.sqrt(a.size), hedges=False, name="Cohen's d_z"
        )
        out = say.Outcome(p, f"paired t = {say.num(t)}", d)
        sentence = say.paired(label_a, label_b, groups["difference"]["mean"], "mean", out)
        return HypothesisResult(
            "paired t-test",
            "t",
            t,
            p,
            a.size,
            sentence,
            d,
            a.size - 1.0,
            groups,
            checks,
            notes=notes,
            method="means",
            alternative="ranks",
        )
    need(bool((diff != 0).any()), "every pair is identical")
    res = stats.wilcoxon(a, b)
    w, p = float(res.statistic), float(res.pvalue)
    r = effects.rank_biserial_paired(diff)
    out = say.Outcome(p, f"Wilcoxon W = {say.num(w)}", r)
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
        None,
        method="ranks",
        alternative="means",
    )
