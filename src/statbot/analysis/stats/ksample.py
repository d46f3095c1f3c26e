"""Three or more groups: the group table first, then the comparison of means, then the pairs.

- Similar variances (Brown-Forsythe p ≥ 0.05): the classic one-way ANOVA
  (statbot.analysis.stats.anova, NIST-exact sums of squares) and Tukey HSD.
- Variances that differ: Welch's ANOVA (Welch 1951) and Games-Howell.
- ``method="ranks"``, chosen by the user: Kruskal-Wallis with epsilon². It is never an
  automatic fallback (issue 11): a rank test answers a different question (does one group tend
  to have larger values?), and with unequal spreads it is no safer than Welch. When a group
  is not normally distributed the result says so and names the rank test as the option.

Eta² is the share of the total sum of squares between groups, whichever test ran.
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
    from statbot.analysis.stats.hypothesis import Array


def welch_anova(samples: list[Array]) -> tuple[float, float, float, float]:
    """(F, df1, df2, p) of Welch's heteroscedastic one-way ANOVA."""
    from scipy import stats

    from statbot.analysis.stats.describe import moments

    k = len(samples)
    mom = [moments(s) for s in samples]
    w = [s.size / m["std"] ** 2 for s, m in zip(samples, mom, strict=True)]
    total = math.fsum(w)
    centre = math.fsum(wi * m["mean"] for wi, m in zip(w, mom, strict=True)) / total
    a = math.fsum(wi * (m["mean"] - centre) ** 2 for wi, m in zip(w, mom, strict=True)) / (k - 1)
    lam = math.fsum((1 - wi / total) ** 2 / (s.size - 1) for wi, s in zip(w, samples, strict=True))
    f = a / (1 + 2 * (k - 2) / (k * k - 1) * lam)
    df2 = (k * k - 1) / (3 * lam)
    return f, k - 1.0, df2, float(stats.f.sf(f, k - 1, df2))


def k_sample(
    samples: dict[str, Array], what: str, factor: str, method: str = "auto"
) -> HypothesisResult:
    from statbot.analysis.stats.anova import anova_values
    from statbot.analysis.stats.posthoc import MAX_GROUPS, games_howell, tukey_hsd

    need(all(s.size >= 2 for s in samples.values()), "each group needs at least two values")
    arrays = list(samples.values())
    checks = [normality(s, f"group {g}") for g, s in samples.items()] + [equal_variances(arrays)]
    groups = {g: summary(s) for g, s in samples.items()}
    n = sum(s.size for s in arrays)
    if method == "ranks":
        return _kruskal(samples, what, factor, groups, checks)
    classic = anova_values({g: s.tolist() for g, s in samples.items()})
    eta = effects.eta_squared(
        classic.f_statistic,
        classic.df_between,
        classic.df_within,
        classic.ss_between,
        classic.ss_between + classic.ss_within,
    )
    notes: list[str] = []
    non_normal = non_normal_reason(checks[:-1])
    if non_normal:
        notes.append(
            f"{non_normal[0].upper()}{non_normal[1:]}: the comparison of means may be off; "
            "the rank test (Kruskal-Wallis) is available as an option."
        )
    similar = checks[-1].passed
    if any(float(s.std()) == 0 for s in arrays):
        similar = True  # Welch's weights are 1/variance: a constant group rules it out
        if not checks[-1].passed:
            notes.append("A group has no spread at all, so Welch's ANOVA cannot be used.")
    posthoc = None
    if len(samples) > MAX_GROUPS:
        pairs = len(samples) * (len(samples) - 1) // 2
        notes.append(
            f"No pairwise comparison: {len(samples)} groups make {pairs} pairs; it is shown "
            f"for up to {MAX_GROUPS} groups."
        )
    if similar:
        if len(samples) <= MAX_GROUPS and classic.ms_within > 0:
            posthoc = tukey_hsd(samples)
        stat = f"F({classic.df_between}, {classic.df_within}) = {say.num(classic.f_statistic)}"
        test, f, p, df = "one-way ANOVA", classic.f_statistic, classic.p_value, classic.df_between
        df2, fallback = float(classic.df_within), None
    else:
        if len(samples) <= MAX_GROUPS:
            posthoc = games_howell(samples)
        f, df1, df2, p = welch_anova(arrays)
        stat = f"Welch F({say.num(df1)}, {say.num(df2)}) = {say.num(f)}"
        test, df = "Welch's ANOVA", int(df1)
        fallback = (
            f"Welch's ANOVA instead of the classic ANOVA because the groups' variances differ "
            f"(Brown-Forsythe p = {say.num(checks[-1].p_value)})"
        )
    out = say.Outcome(p, stat, eta)
    sentence = say.k_groups(what, factor, groups, "mean", out)
    return HypothesisResult(
        test,
        "F",
        f,
        p,
        n,
        sentence,
        eta,
        float(df),
        groups,
        checks,
        fallback,
        posthoc=posthoc,
        notes=notes,
        method="means",
        alternative="ranks",
        df2=df2,
    )


def _kruskal(
    samples: dict[str, Array],
    what: str,
    factor: str,
    groups: dict[str, dict[str, float]],
    checks: list[AssumptionCheck],
) -> HypothesisResult:
    from scipy import stats

    arrays = list(samples.values())
    res = stats.kruskal(*arrays)
    h, p = float(res.statistic), float(res.pvalue)
    eps = effects.epsilon_squared(arrays, h)
    out = say.Outcome(p, f"Kruskal-Wallis H = {say.num(h)}", eps)
    return HypothesisResult(
        "Kruskal-Wallis test",
        "H",
        h,
        p,
        sum(s.size for s in arrays),
        say.k_groups(what, factor, groups, "median", out),
        eps,
        len(arrays) - 1.0,
        groups,
        checks,
        method="ranks",
        alternative="means",
    )
