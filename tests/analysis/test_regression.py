"""OLS, polynomial, logistic regression and one-way ANOVA against statsmodels/numpy/exact values."""

from __future__ import annotations

import json
import math
import warnings
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from statbot.analysis.stats.logistic import logit
from statbot.analysis.stats.regression import ILL_CONDITIONED, anova_oneway, ols, polynomial
from statbot.errors import DataError


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(2024)


def test_ols_matches_statsmodels_with_categorical_and_missing(rng: np.random.Generator) -> None:
    n = 80
    frame = pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": rng.uniform(0, 5, n),
            "city": rng.choice(["b", "a", "c"], n),
        }
    )
    frame["y"] = 1 + 2 * frame.x1 - 0.5 * frame.x2 + (frame.city == "c") * 1.5 + rng.normal(size=n)
    frame.loc[[4, 9], "x2"] = np.nan
    res = ols(frame, "y", ["x1", "x2", "city"])
    assert res.terms == ["const", "x1", "x2", "city[T.b]", "city[T.c]"]
    assert res.n == 78 and "2 of 80 rows" in res.warnings[0]
    ok = frame.dropna()
    design = sm.add_constant(
        np.column_stack([ok.x1, ok.x2, ok.city == "b", ok.city == "c"]).astype(float)
    )
    ref = sm.OLS(ok.y.to_numpy(), design).fit()
    np.testing.assert_allclose(res.coefficients, ref.params, rtol=1e-11)
    np.testing.assert_allclose(res.std_errors, ref.bse, rtol=1e-11)
    np.testing.assert_allclose(res.p_values, ref.pvalues, rtol=1e-9)
    np.testing.assert_allclose(res.ci_low, ref.conf_int()[:, 0], rtol=1e-10)
    assert math.isclose(res.r_squared, ref.rsquared, rel_tol=1e-12)
    assert math.isclose(res.adj_r_squared, ref.rsquared_adj, rel_tol=1e-12)
    assert math.isclose(res.f_statistic, ref.fvalue, rel_tol=1e-11)
    assert math.isclose(res.f_p_value, ref.f_pvalue, rel_tol=1e-8)
    assert math.isclose(res.residual_std_error, math.sqrt(ref.scale), rel_tol=1e-12)
    assert res.condition_number < ILL_CONDITIONED
    out = res.to_dict()
    json.dumps(out, allow_nan=False)
    assert list(out["coefficients"]) == res.terms


def test_near_collinear_predictors_trigger_the_warning(rng: np.random.Generator) -> None:
    x1 = rng.normal(size=60)
    frame = pd.DataFrame(
        {"x1": x1, "x2": x1 + rng.normal(scale=1e-3, size=60), "y": x1 + rng.normal(size=60)}
    )
    res = ols(frame, "y", ["x1", "x2"])
    assert res.condition_number > ILL_CONDITIONED
    assert any("collinear" in w for w in res.warnings)
    fine = ols(frame, "y", ["x1"])
    assert fine.warnings == []


def test_exactly_collinear_or_constant_predictors_are_refused(rng: np.random.Generator) -> None:
    x = rng.normal(size=30)
    frame = pd.DataFrame({"a": x, "b": 2 * x + 1, "c": np.ones(30), "y": rng.normal(size=30)})
    with pytest.raises(DataError) as info:
        ols(frame, "y", ["a", "b"])
    assert "combinations of others" in info.value.user_message
    with pytest.raises(DataError):
        ols(frame, "y", ["c"])
    with pytest.raises(DataError):
        ols(frame.head(2), "y", ["a"])


def test_polynomial_matches_polyfit_on_well_conditioned_data(rng: np.random.Generator) -> None:
    x = np.linspace(-3, 3, 50)
    y = 1.5 + 2 * x - 0.5 * x**2 + 0.1 * x**3 + rng.normal(scale=0.3, size=50)
    res = polynomial(pd.DataFrame({"x": x, "y": y}), "y", "x", 3)
    assert res.terms == ["const", "x", "x^2", "x^3"]
    np.testing.assert_allclose(res.coefficients, np.polyfit(x, y, 3)[::-1], rtol=1e-12)
    ref = sm.OLS(y, np.column_stack([x**p for p in range(4)])).fit()
    np.testing.assert_allclose(res.std_errors, ref.bse, rtol=1e-11)
    assert math.isclose(res.r_squared, ref.rsquared, rel_tol=1e-13)
    assert math.isclose(res.f_statistic, ref.fvalue, rel_tol=1e-11)


def _exact_least_squares(x: np.ndarray, y: np.ndarray, degree: int) -> list[float]:
    """Least squares in exact rational arithmetic on the given float data (the reference)."""
    rows = [[Fraction(float(v)) ** p for p in range(degree + 1)] for v in x]
    target = [Fraction(float(v)) for v in y]
    k = degree + 1
    a = [[sum(r[i] * r[j] for r in rows) for j in range(k)] for i in range(k)]
    b = [sum(r[i] * t for r, t in zip(rows, target, strict=False)) for i in range(k)]
    for i in range(k):
        for m in range(i + 1, k):
            f = a[m][i] / a[i][i]
            a[m] = [u - f * v for u, v in zip(a[m], a[i], strict=False)]
            b[m] -= f * b[i]
    sol = [Fraction(0)] * k
    for i in reversed(range(k)):
        sol[i] = (b[i] - sum(a[i][j] * sol[j] for j in range(i + 1, k))) / a[i][i]
    return [float(s) for s in sol]


def test_polynomial_beats_polyfit_on_badly_scaled_x(rng: np.random.Generator) -> None:
    x = 1e6 + np.arange(40.0)
    t = x - 1e6
    y = 1.5 + 2 * t - 0.5 * t**2 + 0.01 * t**3 + rng.normal(scale=0.3, size=40)
    exact = np.array(_exact_least_squares(x, y, 3))
    res = polynomial(pd.DataFrame({"x": x, "y": y}), "y", "x", 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", np.exceptions.RankWarning)
        naive = np.polyfit(x, y, 3)[::-1]
    ours_err = np.max(np.abs((np.array(res.coefficients) - exact) / exact))
    naive_err = np.max(np.abs((naive - exact) / exact))
    assert ours_err < 1e-9, ours_err
    assert naive_err > 1e3 * ours_err
    assert any("far from zero" in w for w in res.warnings)
    # The fitted curve is the same as a fit in centred units.
    centred = polynomial(pd.DataFrame({"t": t, "y": y}), "y", "t", 3)
    assert math.isclose(res.r_squared, centred.r_squared, rel_tol=1e-12)


def test_polynomial_rejects_bad_degree() -> None:
    frame = pd.DataFrame({"x": [1.0, 2, 3], "y": [1.0, 4, 9]})
    with pytest.raises(DataError):
        polynomial(frame, "y", "x", 0)
    with pytest.raises(DataError):
        polynomial(frame, "y", "x", 3)


def test_logit_matches_statsmodels(rng: np.random.Generator) -> None:
    n = 300
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    p = 1 / (1 + np.exp(-(-0.3 + 1.1 * x1 - 0.6 * x2)))
    outcome = np.where(rng.random(n) < p, "bought", "left")
    frame = pd.DataFrame({"outcome": outcome, "x1": x1, "x2": x2})
    res = logit(frame, "outcome", ["x1", "x2"])
    assert res.event == "left" and res.separation is None and res.converged
    y = (outcome == "left").astype(float)
    ref = sm.Logit(y, sm.add_constant(np.column_stack([x1, x2]))).fit(disp=False)
    np.testing.assert_allclose(res.coefficients, ref.params, rtol=1e-9)
    np.testing.assert_allclose(res.std_errors, ref.bse, rtol=1e-8)
    np.testing.assert_allclose(res.p_values, ref.pvalues, rtol=1e-7)
    np.testing.assert_allclose(res.odds_ratios, np.exp(ref.params), rtol=1e-9)
    assert math.isclose(res.pseudo_r_squared, ref.prsquared, rel_tol=1e-10)
    json.dumps(res.to_dict(), allow_nan=False)


def test_logit_detects_and_explains_separation() -> None:
    frame = pd.DataFrame(
        {
            "passed": [0, 0, 0, 0, 0, 1, 1, 1, 1, 1],
            "hours": [1.0, 2, 2.5, 3, 4, 5, 6, 6.5, 7, 9],
            "noise": [3.0, 1, 4, 1, 5, 9, 2, 6, 5, 3],
        }
    )
    res = logit(frame, "passed", ["hours", "noise"])
    assert res.separation is not None
    assert "hours" in res.separation and "complete separation" in res.separation
    assert "not meaningful" in res.separation and res.separation in res.warnings
    fine = frame.assign(passed=[0, 1, 0, 0, 1, 1, 0, 1, 1, 0])
    assert logit(fine, "passed", ["hours"]).separation is None


def test_logit_needs_two_levels() -> None:
    with pytest.raises(DataError):
        logit(pd.DataFrame({"y": ["a", "b", "c", "a"], "x": [1.0, 2, 3, 4]}), "y", ["x"])


def test_anova_oneway_matches_scipy_and_keeps_offset_digits(rng: np.random.Generator) -> None:
    groups = {"a": rng.normal(10, 1, 12), "b": rng.normal(11, 1, 15), "c": rng.normal(10.5, 1, 9)}
    frame = pd.DataFrame(
        {
            "g": np.repeat(list(groups), [v.size for v in groups.values()]),
            "v": np.concatenate(list(groups.values())),
        }
    )
    res = anova_oneway(frame, "g", "v")
    ref = stats.f_oneway(*groups.values())
    assert math.isclose(res.f_statistic, ref.statistic, rel_tol=1e-12)
    assert math.isclose(res.p_value, ref.pvalue, rel_tol=1e-10)
    assert (res.df_between, res.df_within) == (2, 33)
    table = res.to_frame()
    assert table["sum_of_squares"].iloc[2] == res.ss_between + res.ss_within
    assert math.isclose(
        res.r_squared, res.ss_between / (res.ss_between + res.ss_within), rel_tol=1e-15
    )
    # Same data shifted by 1e9 (values typed with 3 decimals): identical sums of squares.
    rounded = frame.assign(v=frame.v.round(3))
    shifted = rounded.assign(v=[float(f"{1e9 + v:.3f}") for v in rounded.v])
    base, far = anova_oneway(rounded, "g", "v"), anova_oneway(shifted, "g", "v")
    assert math.isclose(far.ss_within, base.ss_within, rel_tol=1e-12)
    assert math.isclose(far.f_statistic, base.f_statistic, rel_tol=1e-12)
    json.dumps(res.to_dict(), allow_nan=False)


def test_anova_needs_groups_and_numbers() -> None:
    with pytest.raises(DataError):
        anova_oneway(pd.DataFrame({"g": ["a", "a"], "v": [1.0, 2.0]}), "g", "v")
    with pytest.raises(DataError):
        anova_oneway(pd.DataFrame({"g": ["a", "b"], "v": ["x", "y"]}), "g", "v")
