"""statbot.workflows.results: analyses as replies; files named by event, rewritten on replay."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from statbot.engine.replies import ReplyKind
from statbot.errors import DataError
from statbot.workflows import results as R
from statbot.workflows.regression import regression_kind, run_regression


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "x": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.5],
            "y": [2.1, 3.9, 6.2, 8.1, 9.8, 12.2, 15.1],
            "g": ["a", "b", "a", "b", "a", "b", "c"],
        }
    )


def test_a_replayed_event_rewrites_the_same_files(tmp_path: Path) -> None:
    analysis = run_regression(frame(), "y", ["x"], "my data.csv")
    first = R.publish(analysis, tmp_path, "regression-u7", "my data.csv")
    again = R.publish(analysis, tmp_path, "regression-u7", "my data.csv")
    assert [r.path for r in first] == [r.path for r in again]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "regression-u7-ols.csv",
        "regression-u7-qq.png",
        "regression-u7-report.html",
        "regression-u7-residuals.png",
        "regression-u7-rows.csv",
    ]
    doc, rows = [
        r for r in first if r.kind is ReplyKind.DOCUMENT and (r.path or "").endswith(".csv")
    ]
    assert doc.file_name == "ols-my data.csv" and rows.file_name == "rows-my data.csv"
    assert first[-1].text.endswith(
        "`statbot analyze ols 'my data.csv' --target y --features x --json`"
    )
    coefficients = pd.read_csv(doc.path or "")
    assert coefficients.shape[0] == 2


def test_regression_kind_by_target() -> None:
    data = frame().assign(two=["p", "q"] * 3 + ["p"])
    assert regression_kind(data, "y") == "ols"
    assert regression_kind(data, "two") == "logit"
    with pytest.raises(DataError) as caught:
        regression_kind(data, "g")
    assert "'g' has 3 categories" in caught.value.user_message


def test_p_values_for_a_phone() -> None:
    assert R.p_text(0.0001) == "p < 0.001"
    assert R.p_text(0.0423) == "p = 0.0423"
    assert R.p_text(float("nan")) == "p = —"
