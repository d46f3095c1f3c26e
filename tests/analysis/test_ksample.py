"""Three or more groups: the group table, classic or Welch's ANOVA, Tukey HSD / Games-Howell,
checked against statsmodels and scipy on sklearn's iris and statsmodels' fair data sets, and the
wording of ties."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.datasets import load_iris
from statsmodels.datasets import fair
from statsmodels.stats.multicomp import pairwise_tukeyhsd
from statsmodels.stats.oneway import anova_oneway

from statbot.analysis.stats.ksample import welch_anova
from statbot.analysis.stats.posthoc import games_howell, tukey_hsd
from statbot.analysis.stats.tests import choose_and_run
from statbot.analysis.stats.texts import hypothesis_blocks


@pytest.fixture(scope="module")
def iris() -> pd.DataFrame:
    data = load_iris(as_frame=True)
    frame = data.frame.rename(columns=lambda c: c.replace(" (cm)", "").replace(" ", "_"))
    frame["species"] = np.asarray(data.target_names)[data.target]
    return frame.drop(columns="target")


@pytest.fixture(scope="module")
def affairs() -> pd.DataFrame:
    frame = fair.load_pandas().data
    return frame.assign(occupation=frame["occupation"].astype(int).astype(str))


def _samples(frame: pd.DataFrame, group: str, value: str) -> dict[str, np.ndarray]:
    return {str(g): s.to_numpy(float) for g, s in frame.groupby(group)[value]}


@pytest.mark.parametrize(
    ("data", "group", "value"),
    [("iris", "species", "petal_length"), ("affairs", "occupation", "affairs")],
)
def test_welch_anova_matches_statsmodels(
    request: pytest.FixtureRequest, data: str, group: str, value: str
) -> None:
    frame = request.getfixturevalue(data)
    samples = _samples(frame, group, value)
    f, df1, df2, p = welch_anova(list(samples.values()))
    ref = anova_oneway(frame[value], frame[group], use_var="unequal")
    assert math.isclose(f, ref.statistic, rel_tol=1e-12)
    assert (df1, math.isclose(df2, ref.df[1], rel_tol=1e-12)) == (ref.df[0], True)
    assert math.isclose(p, ref.pvalue, rel_tol=1e-9, abs_tol=1e-300)


def test_tukey_hsd_matches_statsmodels_and_scipy(iris: pd.DataFrame) -> None:
    samples = _samples(iris, "species", "sepal_width")
    ours = tukey_hsd(samples)
    ref = pairwise_tukeyhsd(iris["sepal_width"], iris["species"])
    sp = stats.tukey_hsd(*samples.values())
    labels = list(samples)
    assert [(p.a, p.b) for p in ours.pairs] == list(itertools.combinations(labels, 2))
    for row, pair in enumerate(ours.pairs):
        # statsmodels reports group2 − group1, we report a − b
        assert math.isclose(pair.difference, -ref.meandiffs[row], rel_tol=1e-13)
        assert math.isclose(pair.p_adjusted, ref.pvalues[row], rel_tol=1e-9, abs_tol=1e-12)
        assert math.isclose(pair.ci_low, -ref.confint[row][1], rel_tol=1e-10)
        assert math.isclose(pair.ci_high, -ref.confint[row][0], rel_tol=1e-10)
        i, j = labels.index(pair.a), labels.index(pair.b)
        assert math.isclose(pair.p_adjusted, sp.pvalue[i, j], rel_tol=1e-9, abs_tol=1e-12)
        assert math.isclose(pair.ci_low, sp.confidence_interval().low[i, j], rel_tol=1e-10)


def test_games_howell_matches_a_hand_computation(affairs: pd.DataFrame) -> None:
    samples = _samples(affairs, "occupation", "affairs")
    ours = games_howell(samples)
    k = len(samples)
    for pair in ours.pairs:
        a, b = samples[pair.a], samples[pair.b]
        va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
        df = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
        se = math.sqrt((va + vb) / 2)
        diff = a.mean() - b.mean()
        q = abs(diff) / se
        crit = stats.studentized_range.ppf(0.95, k, df)
        assert math.isclose(pair.df, df, rel_tol=1e-12)
        assert math.isclose(pair.q, q, rel_tol=1e-12)
        assert math.isclose(pair.p_adjusted, stats.studentized_range.sf(q, k, df), rel_tol=1e-9)
        # the interval's half-width to 11 digits (its ends can sit near 0)
        assert math.isclose(pair.ci_high - pair.difference, crit * se, rel_tol=1e-11)
        assert math.isclose(pair.difference - pair.ci_low, crit * se, rel_tol=1e-11)


def test_equal_variances_give_anova_and_tukey_unequal_welch_and_games_howell(
    iris: pd.DataFrame,
) -> None:
    same = choose_and_run(iris, "sepal_width", "species")
    ref = stats.f_oneway(*_samples(iris, "species", "sepal_width").values())
    assert same.test == "one-way ANOVA" and same.posthoc.method == "Tukey HSD"
    assert math.isclose(same.statistic, ref.statistic, rel_tol=1e-12)
    assert (same.df, same.df2) == (2.0, 147.0)
    differ = choose_and_run(iris, "petal_length", "species")
    assert differ.test == "Welch's ANOVA" and differ.posthoc.method == "Games-Howell"
    assert "Brown-Forsythe p" in differ.fallback and differ.alternative == "ranks"
    ranks = choose_and_run(iris, "petal_length", "species", method="ranks")
    assert ranks.test == "Kruskal-Wallis test" and ranks.posthoc is None


def test_the_group_table_comes_first_with_t_intervals(iris: pd.DataFrame) -> None:
    res = choose_and_run(iris, "sepal_width", "species")
    setosa = iris.loc[iris.species == "setosa", "sepal_width"]
    low, high = stats.t.interval(0.95, setosa.size - 1, setosa.mean(), stats.sem(setosa))
    row = res.groups["setosa"]
    assert math.isclose(row["ci_low"], low, rel_tol=1e-13)
    assert math.isclose(row["ci_high"], high, rel_tol=1e-13)
    assert row["median"] == setosa.median()
    assert math.isclose(row["std"], setosa.std(), rel_tol=1e-14)
    blocks = hypothesis_blocks(res)
    assert blocks[0].table and blocks[0].text.splitlines()[0].split() == [
        "group", "n", "mean", "sd", "median", "95%", "CI", "of", "mean"
    ]  # fmt: skip
    assert blocks[1].text == res.sentence
    texts = [b.text for b in blocks]
    assert any(t.startswith("3 of 3 pairs differ at adjusted p < 0.05") for t in texts)
    assert "Tukey HSD" in "\n".join(texts) and "Kruskal-Wallis test, can be chosen" in texts[-1]


def _groups(values: dict[str, list[float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"g": g, "v": v} for g, vs in values.items() for v in vs],
    )


def test_ties_never_say_highest_in_one_group() -> None:
    same = _groups({"a": [1.0, 2, 3, 4], "b": [4.0, 3, 2, 1], "c": [2.5, 2.5, 2.0, 3.0]})
    res = choose_and_run(same, "v", "g")
    assert "every group has the same mean, 2.5" in res.sentence
    assert "highest" not in res.sentence and "lowest" not in res.sentence
    ranks = choose_and_run(same, "v", "g", method="ranks")
    assert "every group has the same median, 2.5" in ranks.sentence
    top = _groups({"a": [5.5, 6.5, 7.5], "b": [7.5, 5.5, 6.5], "c": [1.5, 2.5, 3.5]})
    res = choose_and_run(top, "v", "g")
    assert "a and b tie for the highest, 6.5; lowest in c: 2.5" in res.sentence
    assert "highest in" not in res.sentence


def test_close_values_print_with_the_digits_that_tell_them_apart() -> None:
    frame = _groups({"a": [1.0001, 1.0002, 1.0003], "b": [1.0002, 1.0003, 1.0004]})
    frame = pd.concat([frame, _groups({"c": [1.00015, 1.00025, 1.00035]})])
    res = choose_and_run(frame, "v", "g")
    assert "highest in b: 1.0003; lowest in a: 1.0002" in res.sentence


def test_many_groups_skip_the_pairs_and_say_so() -> None:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"g": np.repeat([f"g{i:02}" for i in range(12)], 6)})
    frame["v"] = rng.normal(size=len(frame))
    res = choose_and_run(frame, "v", "g")
    assert res.posthoc is None
    assert any("12 groups make 66 pairs" in n for n in res.notes)
