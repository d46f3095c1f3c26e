"""The regression section checked against statsmodels on data sets that packages ship (issue
11): the digits of agreement that docs/NUMERICS.md records (scripts/numerics_report.py) and
tests/analysis/stats/test_crosscheck.py enforces.

Data: statsmodels' longley, fair and star98 and scikit-learn's diabetes (raw units) for OLS;
spector, fair (any affair) and star98 (a majority above the median) for logistic regression.
References: ``sm.OLS`` / ``sm.Logit`` results, ``variance_inflation_factor``,
``het_breuschpagan``, ``OLSInfluence`` and the Logit of z-scored predictors for standardised β.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from statbot.analysis.stats.diagnostics import SHAPIRO_MAX_N
from statbot.analysis.stats.nist import digits

if TYPE_CHECKING:
    import pandas as pd

LOO_MAX_N = 500  # OLSInfluence refits without each row for external studentisation


@dataclass(frozen=True)
class Case:
    name: str
    frame: pd.DataFrame
    target: str
    features: list[str]


def longley() -> Case:
    from statsmodels.datasets import longley as data

    frame = data.load_pandas().data.astype(float)
    return Case("longley", frame, "TOTEMP", ["GNPDEFL", "GNP", "UNEMP", "ARMED", "POP", "YEAR"])


def diabetes() -> Case:
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(scaled=False, as_frame=True).frame
    frame["sex"] = frame["sex"].map({1.0: "one", 2.0: "two"})
    features = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]
    return Case("diabetes", frame, "target", features)


def fair() -> Case:
    from statsmodels.datasets import fair as data

    frame = data.load_pandas().data
    frame["occupation"] = frame["occupation"].astype(int).map(lambda v: f"occ{v}")
    frame["had_affair"] = (frame["affairs"] > 0).map({True: "yes", False: "no"})
    features = ["rate_marriage", "age", "yrs_married", "children", "religious", "educ"]
    return Case("fair", frame, "affairs", [*features, "occupation"])


def star98() -> Case:
    from statsmodels.datasets import star98 as data

    frame = data.load_pandas().data
    frame["share_above"] = frame["NABOVE"] / (frame["NABOVE"] + frame["NBELOW"])
    frame["majority_above"] = (frame["share_above"] > 0.5).astype(int)
    features = ["LOWINC", "PERASIAN", "PERBLACK", "PERHISP", "PERMINTE", "AVYRSEXP", "AVSALK"]
    features += ["PERSPENK", "PTRATIO", "PCTAF", "PCTCHRT", "PCTYRRND"]
    return Case("star98", frame, "share_above", features)


def spector() -> Case:
    from statsmodels.datasets import spector as data

    return Case("spector", data.load_pandas().data, "GRADE", ["GPA", "TUCE", "PSI"])


def _as(case: Case, name: str, target: str) -> Case:
    return Case(name, case.frame, target, case.features)


OLS_CASES: dict[str, Callable[[], Case]] = {
    "longley": longley,
    "diabetes": diabetes,
    "fair": fair,
    "star98": star98,
}
LOGIT_CASES: dict[str, Callable[[], Case]] = {
    "spector": spector,
    "fair": lambda: _as(fair(), "fair", "had_affair"),
    "star98": lambda: _as(star98(), "star98", "majority_above"),
}


def _min_digits(ours: Any, theirs: Any) -> float:
    import numpy as np

    a, b = np.ravel(np.asarray(ours, dtype=float)), np.ravel(np.asarray(theirs, dtype=float))
    return min(digits(float(x), float(y)) for x, y in zip(a, b, strict=True))


def _zscore(a: Any) -> Any:
    return (a - a.mean(axis=0)) / a.std(axis=0, ddof=1)


def ols_digits(case: Case) -> dict[str, float]:
    """Min digits of agreement with statsmodels over every element of each quantity."""
    import numpy as np
    import statsmodels.api as sm
    from scipy import stats
    from statsmodels.stats.diagnostic import het_breuschpagan
    from statsmodels.stats.outliers_influence import OLSInfluence, variance_inflation_factor

    from statbot.analysis.stats.design import design
    from statbot.analysis.stats.regression import OLSResult
    from statbot.analysis.stats.regression_report import ols_report

    report = ols_report(case.frame, case.target, case.features)
    d = design(case.frame, case.target, case.features)
    exog = sm.add_constant(d.x)
    ref = sm.OLS(d.y, exog).fit()
    r, checks = report.result, report.checks
    if not isinstance(r, OLSResult) or checks is None:
        raise TypeError("an OLS report has an OLSResult and residual checks")
    z = sm.OLS(_zscore(d.y), sm.add_constant(_zscore(d.x))).fit()
    vif = [variance_inflation_factor(exog, j) for j in range(1, exog.shape[1])]
    lm, lm_p, _, _ = het_breuschpagan(ref.resid, exog)
    infl = OLSInfluence(ref)
    h, e = infl.hat_matrix_diag, np.asarray(ref.resid)
    if ref.nobs <= LOO_MAX_N:
        external = infl.resid_studentized_external
    else:  # closed form from statsmodels' residuals and leverages
        external = e / np.sqrt(
            (ref.ssr - e**2 / (1 - h)) / (ref.nobs - exog.shape[1] - 1) * (1 - h)
        )
    hc3 = sm.OLS(d.y, exog).fit(cov_type="HC3", use_t=True)
    normal = stats.shapiro(e) if ref.nobs <= SHAPIRO_MAX_N else stats.normaltest(e)
    return {
        "coefficients": _min_digits(r.coefficients, ref.params),
        "std_errors": _min_digits(r.std_errors, ref.bse),
        "t": _min_digits(r.t_values, ref.tvalues),
        "p": _min_digits(r.p_values, ref.pvalues),
        "ci": _min_digits(np.column_stack([r.ci_low, r.ci_high]), ref.conf_int()),
        "std_beta": _min_digits(report.std_betas[1:], z.params[1:]),
        "vif": _min_digits(report.vifs[1:], vif),
        "breusch_pagan": _min_digits(
            [checks.breusch_pagan.statistic, checks.breusch_pagan.p_value], [lm, lm_p]
        ),
        "leverage": _min_digits(checks.leverages, h),
        "cooks_distance": _min_digits(checks.cooks, infl.cooks_distance[0]),
        "studentized": min(
            _min_digits(checks.standardised_residuals, infl.resid_studentized_internal),
            _min_digits(checks.studentized_residuals, external),
        ),
        "hc3_std_errors": _min_digits(checks.robust_std_errors, hc3.bse),
        "normality": _min_digits(
            [checks.normality.statistic, checks.normality.p_value],
            [normal.statistic, normal.pvalue],
        ),
    }


def logit_digits(case: Case) -> dict[str, float]:
    import numpy as np
    import statsmodels.api as sm
    from statsmodels.stats.outliers_influence import variance_inflation_factor

    from statbot.analysis.stats.logistic import LogitResult, logit_design
    from statbot.analysis.stats.regression_report import logit_report

    report = logit_report(case.frame, case.target, case.features)
    d, _ = logit_design(case.frame, case.target, case.features)
    exog = sm.add_constant(d.x)
    ref = sm.Logit(d.y, exog).fit(method="newton", disp=False)
    z = sm.Logit(d.y, sm.add_constant(_zscore(d.x))).fit(method="newton", disp=False)
    r, table = report.result, report.to_frame()
    if not isinstance(r, LogitResult):
        raise TypeError("a logit report has a LogitResult")
    ci = np.asarray(ref.conf_int())
    vif = [variance_inflation_factor(exog, j) for j in range(1, exog.shape[1])]
    return {
        "coefficients": _min_digits(r.coefficients, ref.params),
        "std_errors": _min_digits(r.std_errors, ref.bse),
        "z": _min_digits(r.z_values, ref.tvalues),
        "p": _min_digits(r.p_values, ref.pvalues),
        "odds_ratio": _min_digits(table["odds_ratio"], np.exp(ref.params)),
        "odds_ratio_ci": _min_digits(
            table[["odds_ratio_ci_low", "odds_ratio_ci_high"]], np.exp(ci)
        ),
        "std_beta": _min_digits(report.std_betas[1:], z.params[1:]),
        "vif": _min_digits(report.vifs[1:], vif),
    }
