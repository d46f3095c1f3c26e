from __future__ import annotations

import json
import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from statbot.analysis.stats.describe import correlate, describe, missing_report, moments
from statbot.errors import DataError


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 120
    x = rng.gamma(2.0, 3.0, n)
    x[[3, 50]] = np.nan
    return pd.DataFrame(
        {
            "x": x,
            "y": rng.normal(10, 2, n),
            "city": rng.choice(["Oslo", "Lima", "Pune", None], n, p=[0.5, 0.3, 0.15, 0.05]),
            "when": pd.date_range("2024-01-01", periods=n, freq="D"),
            "flag": rng.choice([True, False], n),
        }
    )


def test_numeric_summary_matches_pandas(frame: pd.DataFrame) -> None:
    result = describe(frame).to_dict()
    x = frame["x"]
    ref = x.describe()
    got = result["x"]
    assert got["kind"] == "numeric"
    assert got["count"] == 118 and got["missing"] == 2
    for key in ("mean", "std", "min", "25%", "50%", "75%", "max"):
        assert math.isclose(got[key], float(ref[key]), rel_tol=1e-13), key
    assert math.isclose(got["skew"], float(x.skew()), rel_tol=1e-10)
    assert math.isclose(got["kurtosis"], float(x.kurt()), rel_tol=1e-10)


def test_moments_keep_digits_with_a_large_offset() -> None:
    """1e12 + small variation: the corrected two-pass variance matches exact arithmetic."""
    base = [0.125, 0.25, 0.5, 0.375, 0.0625, 0.4375]
    values = np.array([1e12 + b for b in base])  # exactly representable
    exact = [Fraction(float(v)) for v in values]
    mean = sum(exact) / len(exact)
    var = sum((v - mean) ** 2 for v in exact) / (len(exact) - 1)
    got = moments(values)
    assert got["mean"] == float(mean)
    assert math.isclose(got["std"], math.sqrt(var), rel_tol=1e-14)


def test_categorical_datetime_and_boolean(frame: pd.DataFrame) -> None:
    result = describe(frame).to_dict()
    city = result["city"]
    assert city["kind"] == "categorical"
    counts = frame["city"].value_counts()
    assert city["unique"] == 3 and city["missing"] == int(frame["city"].isna().sum())
    assert city["top"] == {k: int(v) for k, v in counts.items()}
    when = result["when"]
    assert when["kind"] == "datetime"
    assert when["min"].startswith("2024-01-01") and when["range_days"] == 119.0
    assert result["flag"]["kind"] == "categorical"


def test_result_exports(frame: pd.DataFrame) -> None:
    result = describe(frame, ["x", "city"])
    json.dumps(result.to_dict(), allow_nan=False)
    table = result.to_frame()
    assert list(table["column"]) == ["x", "city"]
    assert table.loc[0, "mean"] == result.to_dict()["x"]["mean"]


def test_empty_numeric_column_gives_nulls() -> None:
    out = describe(pd.DataFrame({"a": [np.nan, np.nan]})).to_dict()["a"]
    assert out["count"] == 0 and out["missing"] == 2 and out["mean"] is None


def test_unknown_column_suggests_the_closest() -> None:
    with pytest.raises(DataError) as info:
        describe(pd.DataFrame({"price": [1.0]}), ["prcie"])
    assert 'Did you mean "price"' in info.value.user_message


@pytest.mark.parametrize(
    ("method", "fn"),
    [("pearson", stats.pearsonr), ("spearman", stats.spearmanr), ("kendall", stats.kendalltau)],
)
def test_correlation_matches_scipy_with_pairwise_n(frame: pd.DataFrame, method: str, fn) -> None:
    frame = frame.assign(z=frame["y"] * 0.5 + np.nan_to_num(frame["x"]))
    frame.loc[[7, 8, 9], "y"] = np.nan
    result = correlate(frame, method)
    assert result.columns == ["x", "y", "z"]
    i, j = 0, 1
    ok = frame["x"].notna() & frame["y"].notna()
    ref = fn(frame.loc[ok, "x"], frame.loc[ok, "y"])
    assert result.n[i][j] == int(ok.sum()) == 115
    assert math.isclose(result.r[i][j], ref.statistic, rel_tol=1e-12)
    assert math.isclose(result.p_value[i][j], ref.pvalue, rel_tol=1e-9)
    assert result.r[j][i] == result.r[i][j] and result.r[0][0] == 1.0
    long = result.to_frame()
    assert len(long) == 3 and set(long.columns) == {"a", "b", "r", "p_value", "n"}
    json.dumps(result.to_dict(), allow_nan=False)


def test_constant_and_short_columns_are_left_out_with_the_reason() -> None:
    frame = pd.DataFrame(
        {"a": [1.0, 2, 3, 4], "b": [5.0, 5, 5, 5], "c": [4.0, 1, 3, 2], "d": [1.0, None, None, 2]}
    )
    result = correlate(frame)
    assert result.columns == ["a", "c"]
    assert result.left_out == {"b": "constant (every value is 5)", "d": "only 2 values"}
    assert result.to_dict()["left_out"]["b"].startswith("constant")
    with pytest.raises(DataError) as info:
        correlate(frame[["a", "b"]])
    assert "b: constant (every value is 5)" in info.value.user_message


def test_correlation_rejects_bad_requests(frame: pd.DataFrame) -> None:
    with pytest.raises(DataError):
        correlate(frame, "cosine")  # type: ignore[arg-type]
    with pytest.raises(DataError):
        correlate(frame, columns=["x", "city"])
    with pytest.raises(DataError):
        correlate(frame[["x", "city"]])


def test_missing_report(frame: pd.DataFrame) -> None:
    report = missing_report(frame).to_dict()
    missing_city = int(frame["city"].isna().sum())
    assert report["columns"]["x"]["missing"] == 2
    assert report["columns"]["city"]["missing"] == missing_city
    complete = int(frame.notna().all(axis=1).sum())
    assert report["complete_rows"] == complete
    assert report["rows_with_missing"] == len(frame) - complete
    assert list(missing_report(frame).to_frame()["column"]) == list(frame.columns)
