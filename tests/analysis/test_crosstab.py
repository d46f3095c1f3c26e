"""Categorical × categorical: the table with row and column percentages, chi-square, Fisher's
exact test for small 2×2 tables and the Monte-Carlo p-value for larger ones, Cramér's V."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.datasets import fair

from statbot.analysis.stats.tests import choose_and_run
from statbot.analysis.stats.texts import hypothesis_blocks


def test_chi_square_on_the_fair_data_with_percentages() -> None:
    frame = fair.load_pandas().data
    frame = pd.DataFrame(
        {
            "religious": frame["religious"].map({1: "no", 2: "somewhat", 3: "yes", 4: "very"}),
            "affair": np.where(frame["affairs"] > 0, "yes", "no"),
        }
    )
    res = choose_and_run(frame, "religious", "affair")
    table = pd.crosstab(frame["religious"], frame["affair"])
    ref = stats.chi2_contingency(table.to_numpy(), correction=False)
    assert res.test == "chi-square test of independence" and res.df == ref.dof
    assert math.isclose(res.statistic, ref.statistic, rel_tol=1e-13)
    assert math.isclose(res.p_value, ref.pvalue, rel_tol=1e-10)
    v = stats.contingency.association(table.to_numpy(), method="cramer")
    assert math.isclose(res.effect.value, v, rel_tol=1e-13)
    tab = res.crosstab
    assert tab.rows == sorted(table.index) and tab.counts == table.to_numpy().tolist()
    row_pct = table.div(table.sum(axis=1), axis=0) * 100
    col_pct = table.div(table.sum(axis=0), axis=1) * 100
    assert np.allclose(tab.row_percent(), row_pct.to_numpy(), rtol=1e-14)
    assert np.allclose(tab.column_percent(), col_pct.to_numpy(), rtol=1e-14)
    assert np.allclose(tab.expected, ref.expected_freq, rtol=1e-14)
    long = tab.to_frame()
    assert len(long) == 8 and set(long.columns) >= {"count", "row_percent", "column_percent"}
    blocks = hypothesis_blocks(res)
    assert blocks[0].table and "row %" in blocks[0].text and "col %" in blocks[0].text
    first_row = blocks[0].text.splitlines()[1].split()
    no = table.loc["no"]
    assert first_row == ["no", "n", str(no["no"]), str(no["yes"]), str(no.sum())]
    assert res.to_dict()["crosstab"]["row_percent"][0][0] == tab.row_percent()[0][0]


def test_fisher_for_a_small_two_by_two_with_cramers_v_beside_the_odds_ratio() -> None:
    frame = pd.DataFrame(
        {"drug": ["A"] * 6 + ["B"] * 6, "better": ["yes"] * 5 + ["no"] + ["yes"] + ["no"] * 5}
    )
    res = choose_and_run(frame, "drug", "better")
    counts = pd.crosstab(frame["drug"], frame["better"]).to_numpy()
    assert res.test == "Fisher's exact test"
    assert math.isclose(res.p_value, stats.fisher_exact(counts).pvalue, rel_tol=1e-13)
    [v] = res.other_effects
    assert v.name == "Cramér's V"
    phi = stats.contingency.association(counts, method="cramer")
    assert math.isclose(v.value, phi, rel_tol=1e-13)
    lines = [b.text for b in hypothesis_blocks(res)]
    assert any(line.startswith("Effect size Cramér's V = ") for line in lines)


def test_small_expected_counts_in_a_larger_table_use_a_monte_carlo_p_value() -> None:
    rng = np.random.default_rng(4)
    frame = pd.DataFrame(
        {
            "site": rng.choice(["north", "south", "east"], 40, p=[0.6, 0.3, 0.1]),
            "grade": rng.choice(["A", "B", "C"], 40, p=[0.5, 0.4, 0.1]),
        }
    )
    res = choose_and_run(frame, "site", "grade")
    counts = pd.crosstab(frame["site"], frame["grade"]).to_numpy()
    chi2 = stats.chi2_contingency(counts, correction=False)
    assert chi2.expected_freq.min() < 5
    assert res.test == "chi-square test of independence (Monte-Carlo p-value)"
    assert math.isclose(res.statistic, chi2.statistic, rel_tol=1e-13)
    # the conditional reference distribution, simulated: the p-value is a fraction of 10,000
    # and lands near the exact one that an independent simulation gives
    assert math.isclose(res.p_value * 10_000, round(res.p_value * 10_000), abs_tol=1e-6)
    method = stats.MonteCarloMethod(n_resamples=20_000, rng=np.random.default_rng(9))
    other = stats.chi2_contingency(counts, correction=False, method=method).pvalue
    assert abs(res.p_value - other) < 0.03
    assert "9,999 random tables with the same row and column totals" in res.sentence
    assert res.effect.name == "Cramér's V"
    again = choose_and_run(frame, "site", "grade")
    assert again.p_value == res.p_value  # seeded: the same data gives the same p-value
