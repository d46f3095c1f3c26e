"""Hypothesis tests against scipy reference values; every fallback path exercised."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

from statbot.analysis.stats.effects import kruskal_h_rows
from statbot.analysis.stats.tests import choose_and_run, normality
from statbot.errors import DataError


def _one_sentence(text: str) -> None:
    assert text.endswith(".")
    assert ". " not in text[:-1], text


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(11)


def _normal(mean: float, sd: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """Exactly normal-shaped sample (normal quantiles, shuffled): Shapiro-Wilk cannot reject it."""
    return rng.permutation(mean + sd * stats.norm.ppf((np.arange(n) + 0.5) / n))


def test_two_groups_normal_uses_welch_with_hedges_g(rng: np.random.Generator) -> None:
    a, b = _normal(5.1, 1.0, 30, rng), _normal(4.3, 1.6, 45, rng)
    frame = pd.DataFrame({"group": ["A"] * 30 + ["B"] * 45, "score": np.r_[a, b]})
    res = choose_and_run(frame, "score", "group")
    ref = stats.ttest_ind(a, b, equal_var=False)
    assert res.test == "Welch two-sample t-test" and res.fallback is None
    assert math.isclose(res.statistic, ref.statistic, rel_tol=1e-12)
    assert math.isclose(res.p_value, ref.pvalue, rel_tol=1e-10)
    assert math.isclose(res.df, ref.df, rel_tol=1e-12)
    # Hedges' g: pooled-SD d times the exact correction J(df).
    sp = math.sqrt(
        ((a.size - 1) * a.var(ddof=1) + (b.size - 1) * b.var(ddof=1)) / (a.size + b.size - 2)
    )
    df = a.size + b.size - 2
    j = math.exp(special.gammaln(df / 2) - special.gammaln((df - 1) / 2)) / math.sqrt(df / 2)
    assert math.isclose(res.effect.value, (a.mean() - b.mean()) / sp * j, rel_tol=1e-10)
    # The CI inverts the noncentral t: at each end the observed t sits at the 97.5/2.5 percentile.
    t_pooled = stats.ttest_ind(a, b).statistic
    scale = math.sqrt(1 / a.size + 1 / b.size) * j
    assert math.isclose(stats.nct.cdf(t_pooled, df, res.effect.ci_low / scale), 0.975, rel_tol=1e-6)
    assert math.isclose(
        stats.nct.cdf(t_pooled, df, res.effect.ci_high / scale), 0.025, rel_tol=1e-5
    )
    assert [c.name for c in res.assumptions] == [
        "normality of group A",
        "normality of group B",
        "equal variances",
    ]
    assert "Shapiro-Wilk" in {c.test for c in res.assumptions}
    assert "higher than" in res.sentence and "Welch t" in res.sentence
    _one_sentence(res.sentence)
    json.dumps(res.to_dict(), allow_nan=False)
    assert res.variables == ["score", "group"]
    row = res.to_frame().iloc[0]
    assert row["p_value"] == res.p_value and row["effect_value"] == res.effect.value


def test_non_normal_groups_keep_welch_and_name_mann_whitney(rng: np.random.Generator) -> None:
    # issue 11: a failed normality check is said, and the rank test is the user's choice,
    # not an automatic switch
    a, b = rng.exponential(1.0, 40), rng.exponential(2.5, 35)
    frame = pd.DataFrame({"arm": ["x"] * 40 + ["y"] * 35, "days": np.r_[a, b]})
    welch = choose_and_run(frame, "arm", "days")
    ref_t = stats.ttest_ind(a, b, equal_var=False)
    assert welch.test == "Welch two-sample t-test" and welch.fallback is None
    assert math.isclose(welch.p_value, ref_t.pvalue, rel_tol=1e-12)
    assert any(not c.passed for c in welch.assumptions)
    [note] = [n for n in welch.notes if "not normally distributed" in n]
    assert "the rank test (Mann-Whitney U) is available as an option" in note
    assert welch.alternative == "ranks"
    res = choose_and_run(frame, "arm", "days", method="ranks")
    ref = stats.mannwhitneyu(a, b, alternative="two-sided")
    assert res.test == "Mann-Whitney U test" and res.fallback is None
    assert res.statistic == ref.statistic and math.isclose(res.p_value, ref.pvalue, rel_tol=1e-12)
    assert "Mann-Whitney" in res.sentence and "instead of" not in res.sentence
    r = 2 * ref.statistic / (a.size * b.size) - 1
    assert math.isclose(res.effect.value, r, rel_tol=1e-12) and res.effect.value < 0
    assert res.effect.ci_low < r < res.effect.ci_high
    assert any(not c.passed for c in res.assumptions)
    _one_sentence(res.sentence)


def test_two_numeric_columns_compared_as_independent_samples(rng: np.random.Generator) -> None:
    frame = pd.DataFrame({"before": _normal(10, 2, 25, rng), "after": _normal(12, 2, 25, rng)})
    res = choose_and_run(frame, "before", "after")
    ref = stats.ttest_ind(frame["before"], frame["after"], equal_var=False)
    assert res.test.startswith("Welch") and math.isclose(res.p_value, ref.pvalue, rel_tol=1e-10)
    # before/after names with values in the same rows: the paired test is suggested
    assert any("paired test compares them row by row" in n for n in res.notes)


def test_paired_t_and_wilcoxon_fallback(rng: np.random.Generator) -> None:
    before = _normal(10, 2, 30, rng)
    after = before + _normal(0.8, 1.0, 30, rng)
    frame = pd.DataFrame({"before": before, "after": after})
    res = choose_and_run(frame, "after", "before", paired=True)
    ref = stats.ttest_rel(after, before)
    assert res.test == "paired t-test"
    assert math.isclose(res.statistic, ref.statistic, rel_tol=1e-12)
    diff = after - before
    assert math.isclose(res.effect.value, diff.mean() / diff.std(ddof=1), rel_tol=1e-12)
    assert "higher" in res.sentence
    _one_sentence(res.sentence)

    skewed = pd.DataFrame({"a": before, "b": before - rng.exponential(1.0, 30) ** 3})
    kept = choose_and_run(skewed, "a", "b", paired=True)
    assert kept.test == "paired t-test" and kept.fallback is None  # no automatic switch
    assert any("the rank test (Wilcoxon signed-rank) is available" in n for n in kept.notes)
    res = choose_and_run(skewed, "a", "b", paired=True, method="ranks")
    ref = stats.wilcoxon(skewed["a"], skewed["b"])
    assert res.test == "Wilcoxon signed-rank test (paired)" and res.fallback is None
    assert math.isclose(res.p_value, ref.pvalue, rel_tol=1e-12)
    assert res.effect.name == "matched rank-biserial r" and res.effect.value == 1.0  # all a > b


def test_one_sample_t_and_wilcoxon(rng: np.random.Generator) -> None:
    x = _normal(5.4, 1.0, 40, rng)
    res = choose_and_run(pd.DataFrame({"x": x}), "x", mu=5.0)
    ref = stats.ttest_1samp(x, 5.0)
    assert res.test == "one-sample t-test" and math.isclose(res.p_value, ref.pvalue, rel_tol=1e-10)
    assert math.isclose(res.effect.value, (x.mean() - 5) / x.std(ddof=1), rel_tol=1e-12)
    y = rng.lognormal(0, 1.2, 40)
    kept = choose_and_run(pd.DataFrame({"y": y}), "y", mu=1.0)
    assert kept.test == "one-sample t-test"
    assert any("the rank test (Wilcoxon signed-rank) is available" in n for n in kept.notes)
    res = choose_and_run(pd.DataFrame({"y": y}), "y", mu=1.0, method="ranks")
    assert res.test == "Wilcoxon signed-rank test"
    assert math.isclose(res.p_value, stats.wilcoxon(y - 1.0).pvalue, rel_tol=1e-12)
    _one_sentence(res.sentence)


def test_three_groups_anova_with_eta_squared(rng: np.random.Generator) -> None:
    samples = [_normal(m, 1.0, 20, rng) for m in (4.0, 4.5, 5.5)]
    frame = pd.DataFrame(
        {"dose": np.repeat(["low", "mid", "high"], 20), "resp": np.concatenate(samples)}
    )
    res = choose_and_run(frame, "dose", "resp")
    ref = stats.f_oneway(*samples)
    assert res.test == "one-way ANOVA"
    assert math.isclose(res.statistic, ref.statistic, rel_tol=1e-12)
    assert math.isclose(res.p_value, ref.pvalue, rel_tol=1e-10)
    grand = np.concatenate(samples).mean()
    ssb = sum(s.size * (s.mean() - grand) ** 2 for s in samples)
    sst = ((np.concatenate(samples) - grand) ** 2).sum()
    assert math.isclose(res.effect.value, ssb / sst, rel_tol=1e-12)
    assert 0 <= res.effect.ci_low < res.effect.value < res.effect.ci_high < 1
    assert "highest in high" in res.sentence
    _one_sentence(res.sentence)


def test_kruskal_wallis_is_the_rank_option_not_a_fallback(rng: np.random.Generator) -> None:
    samples = [rng.exponential(s, 25) for s in (1.0, 1.5, 3.0)]
    frame = pd.DataFrame({"g": np.repeat([1, 2, 3], 25), "v": np.concatenate(samples)})
    auto = choose_and_run(frame, "g", "v")  # an integer column with 3 values is a grouping
    assert auto.test == "Welch's ANOVA" and auto.alternative == "ranks"
    assert any("rank test (Kruskal-Wallis) is available" in n for n in auto.notes)
    res = choose_and_run(frame, "g", "v", method="ranks")
    ref = stats.kruskal(*samples)
    assert res.test == "Kruskal-Wallis test" and res.fallback is None and res.method == "ranks"
    assert "instead of" not in res.sentence and res.alternative == "means"
    assert math.isclose(res.statistic, ref.statistic, rel_tol=1e-12)
    assert math.isclose(res.effect.value, ref.statistic / (75 - 1), rel_tol=1e-12)
    assert res.effect.ci_low <= res.effect.value <= res.effect.ci_high
    again = choose_and_run(frame, "g", "v", method="ranks")
    assert again.effect == res.effect  # seeded bootstrap: reproducible


def test_chi_square_with_cramers_v(rng: np.random.Generator) -> None:
    n = 300
    a = rng.choice(["red", "green", "blue"], n)
    b = np.where(rng.random(n) < 0.3, "yes", rng.choice(["yes", "no"], n))
    frame = pd.DataFrame({"colour": a, "liked": b})
    res = choose_and_run(frame, "colour", "liked")
    table = pd.crosstab(frame["colour"], frame["liked"])
    ref = stats.chi2_contingency(table, correction=False)
    assert res.test == "chi-square test of independence"
    assert math.isclose(res.statistic, ref.statistic, rel_tol=1e-12)
    assert math.isclose(res.effect.value, math.sqrt(ref.statistic / n), rel_tol=1e-12)
    assert res.assumptions[0].passed
    _one_sentence(res.sentence)


def test_small_expected_counts_use_fisher() -> None:
    frame = pd.DataFrame(
        {
            "treated": [True] * 8 + [False] * 8,
            "cured": [1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0],
        }
    )
    frame["cured"] = frame["cured"].map({1: "yes", 0: "no"})
    res = choose_and_run(frame, "treated", "cured")
    table = pd.crosstab(frame["treated"].astype(str), frame["cured"]).to_numpy()
    ref = stats.fisher_exact(table)
    assert res.test == "Fisher's exact test"
    assert "expected count is below 5" in res.fallback
    assert math.isclose(res.p_value, ref.pvalue, rel_tol=1e-12)
    assert (
        res.effect.name == "odds ratio"
        and res.effect.ci_low < res.effect.value < res.effect.ci_high
    )
    assert not res.assumptions[0].passed
    assert "Fisher" in res.sentence
    _one_sentence(res.sentence)


def test_normality_switches_to_dagostino_above_5000(rng: np.random.Generator) -> None:
    small = normality(rng.normal(size=500), "x")
    big = normality(rng.normal(size=6000), "x")
    assert small.test == "Shapiro-Wilk" and big.test == "D'Agostino-Pearson"
    data = np.random.default_rng(5).normal(size=6000)
    assert normality(data, "x").p_value == stats.normaltest(data).pvalue
    skewed = normality(rng.exponential(size=300), "e")
    assert not skewed.passed


def test_bad_requests_raise_data_error() -> None:
    frame = pd.DataFrame({"name": ["a", "b", "c"], "x": [1.0, 2.0, 3.0]})
    with pytest.raises(DataError) as info:
        choose_and_run(frame, "xx")
    assert 'Did you mean "x"' in info.value.user_message
    with pytest.raises(DataError):
        choose_and_run(frame, "name")
    with pytest.raises(DataError):
        choose_and_run(frame, "x", "name", paired=True)


def test_vectorised_kruskal_matches_scipy_with_ties(rng: np.random.Generator) -> None:
    rows = rng.integers(0, 6, (20, 17)).astype(float)  # many ties
    sizes = [5, 4, 8]
    got = kruskal_h_rows(rows, sizes)
    for i, row in enumerate(rows):
        ref = stats.kruskal(row[:5], row[5:9], row[9:]).statistic
        assert math.isclose(got[i], ref, rel_tol=1e-12)


def test_small_integer_columns_pick_the_coarser_one_as_grouping() -> None:
    frame = pd.DataFrame({"arm": [0, 1] * 15, "rating": [1, 2, 3, 4, 5, 3] * 5})
    res = choose_and_run(frame, "rating", "arm")
    assert set(res.groups) == {"group 0", "group 1"}


def test_the_user_may_choose_means_or_ranks(rng: np.random.Generator) -> None:
    y = rng.lognormal(0, 1.2, 40)
    frame = pd.DataFrame({"y": y, "z": y * rng.lognormal(0.2, 0.3, 40)})
    chosen = choose_and_run(frame, "y", mu=1.0, method="means")  # not normal, t asked for
    assert chosen.test == "one-sample t-test" and chosen.fallback is None
    assert math.isclose(chosen.p_value, stats.ttest_1samp(y, 1.0).pvalue, rel_tol=1e-12)
    assert "higher than 1" in chosen.sentence or "lower than 1" in chosen.sentence
    ranked = choose_and_run(frame, "z", "y", paired=True, method="ranks")
    ref = stats.wilcoxon(frame["z"], frame["y"])
    assert ranked.test == "Wilcoxon signed-rank test (paired)" and ranked.fallback is None
    assert math.isclose(ranked.p_value, ref.pvalue, rel_tol=1e-12)
    assert "instead of" not in ranked.sentence
    with pytest.raises(DataError):
        choose_and_run(frame, "y", method="fastest")


@pytest.mark.parametrize(
    ("a", "b", "hint"),
    [
        ("weight_before", "weight_after", True),
        ("pre_score", "post_score", True),
        ("score1", "score2", True),
        ("height", "weight", False),
    ],
)
def test_paired_looking_columns_are_suggested(
    rng: np.random.Generator, a: str, b: str, hint: bool
) -> None:
    from statbot.analysis.stats.tests import paired_hint

    x = _normal(70, 8, 20, rng)
    frame = pd.DataFrame({a: x, b: x - _normal(1, 1, 20, rng)})
    assert (paired_hint(frame, a, b) is not None) is hint
    frame.loc[3, b] = np.nan  # not the same rows any more
    assert paired_hint(frame, a, b) is None


def test_a_zero_mean_difference_is_not_called_higher_or_lower() -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [2.0, 1.0, 4.0, 3.0]})
    res = choose_and_run(frame, "a", "b", paired=True, method="means")
    assert "neither higher nor lower" in res.sentence and "difference 0" in res.sentence
