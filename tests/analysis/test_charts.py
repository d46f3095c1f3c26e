"""Charts (statbot.analysis.report.charts): phone-sized PNG bytes, no figure leaks."""

from __future__ import annotations

import struct

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from statbot.analysis.ml.training import FeatureImportance, LeaderboardEntry
from statbot.analysis.report import charts

PNG = b"\x89PNG\r\n\x1a\n"


def _size(png: bytes) -> tuple[int, int]:
    assert png[12:16] == b"IHDR"
    return struct.unpack(">II", png[16:24])


def _cases() -> dict[str, object]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=300)
    y = 2 * x + rng.normal(size=300)
    frame = pd.DataFrame({"a": x, "b": y, "c": rng.normal(size=300)})
    truth = np.array(["cat", "dog", "owl"] * 20)
    proba = rng.dirichlet([1, 1, 1], size=60)
    proba[np.arange(60), np.array([0, 1, 2] * 20)] += 1.0
    proba /= proba.sum(axis=1, keepdims=True)
    guess = np.array(["cat", "dog", "owl"])[proba.argmax(axis=1)]
    binary_truth = np.array(["no", "yes"] * 30)
    binary_proba = np.column_stack([1 - proba[:, 0], proba[:, 0]])
    return {
        "histogram_box": lambda: charts.histogram_box(pd.Series(np.append(x, np.nan)), "age"),
        "scatter_fit": lambda: charts.scatter_fit(x, y, "x", "y"),
        "groups_violin_box": lambda: charts.groups_violin_box(
            {"low": x[:100], "mid": y[:100], "flat": np.ones(5), "one": x[:1]}, "dose", "arm"
        ),
        "correlation_heatmap": lambda: charts.correlation_heatmap(frame.corr()),
        "residuals_qq": lambda: charts.residuals_qq(y - x, x),
        "confusion_matrix": lambda: charts.confusion_matrix_chart(
            truth, guess, ["cat", "dog", "owl"]
        ),
        "roc_multiclass": lambda: charts.roc_curves(truth, proba, ["cat", "dog", "owl"]),
        "roc_binary": lambda: charts.roc_curves(binary_truth, binary_proba, ["no", "yes"]),
        "importance_bars": lambda: charts.importance_bars(
            [FeatureImportance("a", 0.4, 0.05), FeatureImportance("b", 0.1, 0.01)]
        ),
        "leaderboard_bars": lambda: charts.leaderboard_bars(
            [
                LeaderboardEntry("random_forest", "accuracy", 0.93, 0.02, 1.5),
                LeaderboardEntry("logistic", "accuracy", 0.91, 0.03, 0.2),
                LeaderboardEntry("svm", "accuracy", None, None, 0.0, "skipped: time budget"),
            ]
        ),
        "importance_from_dicts": lambda: charts.importance_bars(
            [{"feature": "x", "mean": 0.2, "std": 0.0}]
        ),
    }


@pytest.mark.parametrize("name", list(_cases()))
def test_chart_is_a_phone_sized_png_and_leaks_no_figure(name) -> None:
    plt.close("all")
    png = _cases()[name]()
    assert png.startswith(PNG)
    assert _size(png) == (1000, 800)
    assert len(png) > 10_000  # a real drawing, not an empty canvas
    assert plt.get_fignums() == []


def test_charts_differ_with_data() -> None:
    a = charts.histogram_box([1.0, 2.0, 2.0, 3.0], "a")
    b = charts.histogram_box([1.0, 5.0, 9.0, 9.0, 9.0], "a")
    assert a != b


def test_large_inputs_are_sampled_and_still_render() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=200_000)
    png = charts.scatter_fit(x, x + rng.normal(size=x.size), "x", "y")
    assert png.startswith(PNG) and _size(png) == (1000, 800)
    wide = pd.DataFrame(rng.normal(size=(50, 30))).corr()
    assert charts.correlation_heatmap(wide).startswith(PNG)
    assert plt.get_fignums() == []


def test_degenerate_inputs_do_not_crash() -> None:
    assert charts.scatter_fit([1, 1, 1], [2, 3, 4], "x", "y").startswith(PNG)
    assert charts.histogram_box([np.nan, 1.0], "one value").startswith(PNG)
    assert charts.leaderboard_bars([]).startswith(PNG)
    many = {f"g{i}": [float(i), i + 1.0] for i in range(30)}
    assert charts.groups_violin_box(many, "v", "g").startswith(PNG)
