"""Pearson, Spearman and Kendall side by side (against scipy on sklearn's diabetes data), and
the columns a correlation leaves out, named with the reason."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.datasets import load_diabetes

from statbot.analysis.stats.correlations import correlate_all, usable_columns
from statbot.analysis.stats.texts import correlation_blocks
from statbot.errors import DataError


def test_three_coefficients_per_pair_match_scipy() -> None:
    frame = load_diabetes(as_frame=True, scaled=False).frame[["age", "bmi", "bp", "target"]]
    frame = frame.copy()
    frame.loc[[2, 5], "bmi"] = np.nan
    table = correlate_all(frame)
    assert table.columns == ["age", "bmi", "bp", "target"] and len(table.pairs) == 6
    pair = next(p for p in table.pairs if (p.a, p.b) == ("bmi", "target"))
    ok = frame["bmi"].notna()
    x, y = frame.loc[ok, "bmi"], frame.loc[ok, "target"]
    assert pair.n == 440
    for method, fn in (
        ("pearson", stats.pearsonr),
        ("spearman", stats.spearmanr),
        ("kendall", stats.kendalltau),
    ):
        ref = fn(x, y)
        assert math.isclose(pair.values[method][0], ref.statistic, rel_tol=1e-13)
        assert math.isclose(pair.values[method][1], ref.pvalue, rel_tol=1e-9)
    row = table.to_frame().iloc[0]
    assert {"pearson", "pearson_p", "spearman", "kendall_p", "n"} <= set(row.index)
    assert table.matrix("spearman")[1][3] == pair.values["spearman"][0]


def test_left_out_columns_are_named_with_the_reason() -> None:
    frame = pd.DataFrame(
        {
            "x": [1.0, 2, 3, 4, 5],
            "city": list("abcab"),
            "flat": [2.0] * 5,
            "few": [1.0, None, None, None, 2],
            "y": [2.0, 1, 4, 3, 5],
            "when": pd.date_range("2024-01-01", periods=5),
        }
    )
    table = correlate_all(frame)
    assert table.columns == ["x", "y"]
    assert table.left_out == {
        "city": "not numeric",
        "flat": "constant (every value is 2)",
        "few": "only 2 values",
        "when": "dates, not numbers",
    }
    lines = [b.text for b in correlation_blocks(table)]
    assert "Left out: flat (constant (every value is 2))." in lines
    with pytest.raises(DataError) as info:
        usable_columns(frame, ["x", "flat"])
    assert "flat: constant" in info.value.user_message


def test_the_report_ranks_pairs_by_strength_and_cites_all_three() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=80)
    frame = pd.DataFrame({"x": x, "strong": x + 0.1 * rng.normal(size=80)})
    frame["weak"] = rng.normal(size=80)
    blocks = correlation_blocks(correlate_all(frame))
    table = blocks[1].text.splitlines()
    assert table[0].split() == ["pair", "r", "p", "ρ", "τ", "n"]
    assert table[1].startswith("x ~ strong")
