"""The regression section's numbers against statsmodels and scipy, on data sets that packages
ship: coefficients, SE, t/z, p, CI (OLS and Logit), standardised β (the fit on z-scores), VIF
(``variance_inflation_factor``), Breusch-Pagan (``het_breuschpagan``), leverage, Cook's distance
and studentised residuals (``OLSInfluence``), residual normality (``scipy.stats``).

Tolerances: statbot's OLS is the NIST-validated QR path; statsmodels' (pinv) reaches ~11 digits
on Longley (docs/NUMERICS.md), so there the influence numbers agree to what statsmodels holds."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.diagnostic import het_breuschpagan
from statsmodels.stats.outliers_influence import OLSInfluence, variance_inflation_factor

from statbot.analysis.stats import diagnostics
from statbot.analysis.stats.design import design
from statbot.analysis.stats.logistic import logit_design
from statbot.analysis.stats.regression_report import logit_report, ols_report

from .conftest import Case

RTOL = {"longley": 1e-8}  # statsmodels' own digits there; elsewhere 1e-10
DEFAULT_RTOL = 1e-10


def _zscore(a: np.ndarray) -> np.ndarray:
    return (a - a.mean(axis=0)) / a.std(axis=0, ddof=1)


def test_ols_section_matches_statsmodels(ols_case: Case) -> None:
    rtol = RTOL.get(ols_case.name, DEFAULT_RTOL)
    report = ols_report(ols_case.frame, ols_case.target, ols_case.features)
    d = design(ols_case.frame, ols_case.target, ols_case.features)
    exog = sm.add_constant(d.x)
    ref = sm.OLS(d.y, exog).fit()
    r = report.result
    np.testing.assert_allclose(r.coefficients, ref.params, rtol=rtol)
    np.testing.assert_allclose(r.std_errors, ref.bse, rtol=rtol)
    np.testing.assert_allclose(r.t_values, ref.tvalues, rtol=rtol)
    np.testing.assert_allclose(r.p_values, ref.pvalues, rtol=1e3 * rtol, atol=1e-300)
    np.testing.assert_allclose(np.column_stack([r.ci_low, r.ci_high]), ref.conf_int(), rtol=rtol)
    # standardised β: the slopes of z-scored y on z-scored predictors
    zfit = sm.OLS(_zscore(d.y), sm.add_constant(_zscore(d.x))).fit()
    np.testing.assert_allclose(report.std_betas[1:], zfit.params[1:], rtol=rtol)
    assert math.isnan(report.std_betas[0]) and math.isnan(report.vifs[0])
    vif = [variance_inflation_factor(exog, j) for j in range(1, exog.shape[1])]
    np.testing.assert_allclose(report.vifs[1:], vif, rtol=rtol)

    checks = report.checks
    assert checks is not None and checks.n == ref.nobs
    lm, lm_p, f, f_p = het_breuschpagan(ref.resid, exog)
    bp = checks.breusch_pagan
    assert bp.df == exog.shape[1] - 1
    np.testing.assert_allclose([bp.statistic, checks.breusch_pagan_f], [lm, f], rtol=rtol)
    np.testing.assert_allclose([bp.p_value, checks.breusch_pagan_f_p], [lm_p, f_p], rtol=1e-8)
    influence = OLSInfluence(ref)
    np.testing.assert_allclose(checks.leverages, influence.hat_matrix_diag, rtol=rtol)
    np.testing.assert_allclose(checks.cooks, influence.cooks_distance[0], rtol=1e2 * rtol)
    np.testing.assert_allclose(
        checks.standardised_residuals, influence.resid_studentized_internal, rtol=1e2 * rtol
    )
    if ref.nobs <= 500:  # statsmodels refits without each row: n fits
        external = influence.resid_studentized_external
    else:  # the same from statsmodels' residuals and leverages in closed form
        h, e, p = influence.hat_matrix_diag, ref.resid, exog.shape[1]
        s2_i = (ref.ssr - e**2 / (1 - h)) / (ref.nobs - p - 1)
        external = e / np.sqrt(s2_i * (1 - h))
    np.testing.assert_allclose(checks.studentized_residuals, external, rtol=1e2 * rtol)
    np.testing.assert_allclose(checks.residuals, ref.resid, rtol=1e2 * rtol, atol=1e-9)
    # the rows named are those with the largest Cook's distance, as data rows counted from 1
    largest = np.argsort(-influence.cooks_distance[0])[: len(checks.top)]
    assert [t.row for t in checks.top] == [int(d.rows[i]) + 1 for i in largest]
    assert checks.n_influential == int(np.sum(influence.cooks_distance[0] > 4 / ref.nobs))
    normal = stats.shapiro(ref.resid) if ref.nobs <= 5000 else stats.normaltest(ref.resid)
    assert checks.normality.test == ("Shapiro-Wilk" if ref.nobs <= 5000 else "D'Agostino-Pearson")
    np.testing.assert_allclose(
        [checks.normality.statistic, checks.normality.p_value],
        [normal.statistic, normal.pvalue],
        rtol=1e-6,
    )
    robust = sm.OLS(d.y, exog).fit(cov_type="HC3", use_t=True)
    np.testing.assert_allclose(checks.robust_std_errors, robust.bse, rtol=1e2 * rtol)
    np.testing.assert_allclose(report.robust_p_values(), robust.pvalues, rtol=1e4 * rtol)
    json.dumps(report.to_dict(), allow_nan=False)


def test_logit_section_matches_statsmodels(logit_case: Case) -> None:
    report = logit_report(logit_case.frame, logit_case.target, logit_case.features)
    d, _ = logit_design(logit_case.frame, logit_case.target, logit_case.features)
    exog = sm.add_constant(d.x)
    ref = sm.Logit(d.y, exog).fit(method="newton", disp=False)
    r = report.result
    np.testing.assert_allclose(r.coefficients, ref.params, rtol=1e-9)
    np.testing.assert_allclose(r.std_errors, ref.bse, rtol=1e-9)
    np.testing.assert_allclose(r.z_values, ref.tvalues, rtol=1e-9)
    np.testing.assert_allclose(r.p_values, ref.pvalues, rtol=1e-7, atol=1e-300)
    ci = ref.conf_int()
    np.testing.assert_allclose(np.column_stack([r.ci_low, r.ci_high]), ci, rtol=1e-9)
    table = report.to_frame()
    np.testing.assert_allclose(table["odds_ratio"], np.exp(ref.params), rtol=1e-9)
    np.testing.assert_allclose(table["odds_ratio_ci_low"], np.exp(ci[:, 0]), rtol=1e-9)
    np.testing.assert_allclose(table["odds_ratio_ci_high"], np.exp(ci[:, 1]), rtol=1e-9)
    # x-standardised β: the log-odds slopes on z-scored predictors
    zfit = sm.Logit(d.y, sm.add_constant(_zscore(d.x))).fit(method="newton", disp=False)
    np.testing.assert_allclose(report.std_betas[1:], zfit.params[1:], rtol=1e-8)
    vif = [variance_inflation_factor(exog, j) for j in range(1, exog.shape[1])]
    np.testing.assert_allclose(report.vifs[1:], vif, rtol=1e-10)
    assert report.checks is None
    json.dumps(report.to_dict(), allow_nan=False)


def test_gvif_is_vif_for_one_column_and_the_determinant_ratio_for_a_factor(
    ols_case: Case,
) -> None:
    d = design(ols_case.frame, ols_case.target, ols_case.features)
    groups: dict[str, list[int]] = {}
    for j, name in enumerate(d.names):
        groups.setdefault(d.term_of[name], []).append(j)
    values = diagnostics.gvif(d.x, list(groups.values()))
    vif = diagnostics.vif(d.x)
    corr = np.corrcoef(d.x, rowvar=False)
    for (feature, cols), value in zip(groups.items(), values, strict=True):
        if len(cols) == 1:
            assert math.isclose(value, vif[cols[0]], rel_tol=1e-9), feature
        rest = [j for j in range(d.x.shape[1]) if j not in cols]
        expected = (
            np.linalg.det(corr[np.ix_(cols, cols)])
            * np.linalg.det(corr[np.ix_(rest, rest)])
            / np.linalg.det(corr)
        )
        assert math.isclose(value, expected, rel_tol=1e-7), feature


def test_the_fair_occupation_factor_is_one_predictor_with_df_5() -> None:
    from .conftest import OLS_CASES

    case = OLS_CASES["fair"]
    report = ols_report(case.frame, case.target, case.features)
    gvif, df = report.predictor_vifs["occupation"]
    assert df == 5 and gvif < 2
    single = [v for t, v in zip(report.terms, report.vifs, strict=True) if "occupation" in t]
    assert max(single) > 10  # the dummies overlap with each other, not with the rest
    assert report.to_dict()["predictor_vif"]["occupation"]["gvif_scaled"] == pytest.approx(
        gvif ** (1 / 5), rel=1e-12
    )
