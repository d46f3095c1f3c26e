"""Ordinary least squares (QR of the centred, scaled design) and polynomial fits.

Why this shape (issue #3, NIST StRD validation in docs/NUMERICS.md):
- predictors and response are centred (corrected two-pass means) and the predictors scaled to
  unit length before a Householder QR, so the intercept and large offsets never enter the
  factorisation; the normal equations (which square the condition number) are never formed;
- one step of iterative refinement polishes the solution;
- sums of squares come from residuals and centred fitted values with exactly rounded sums;
- polynomials are fitted in z = (x - mean) / sd and mapped back to powers of x by the binomial
  expansion in exact rational arithmetic, covariance included (b = T c, Cov b = T Cov c Tᵀ).
Logistic regression lives in statbot.analysis.stats.logistic; one-way ANOVA in
statbot.analysis.stats.anova.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from statbot.analysis.frames import coefficient_frame, nan_to_none, require_columns, term_columns
from statbot.analysis.stats.anova import AnovaResult, anova_oneway
from statbot.analysis.stats.describe import stable_sum
from statbot.analysis.stats.design import build_design, finite_rows
from statbot.errors import DataError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

__all__ = ["AnovaResult", "OLSResult", "anova_oneway", "ols", "ols_arrays", "polynomial"]

# Condition number of the centred, unit-length predictors above which we warn; 30 is Belsley,
# Kuh & Welsch's (1980) threshold for strong dependencies (Longley's is ~110).
ILL_CONDITIONED = 30.0
MAX_DEGREE = 10


@dataclass(frozen=True)
class OLSResult:
    terms: list[str]
    coefficients: list[float]
    std_errors: list[float]
    t_values: list[float]
    p_values: list[float]
    ci_low: list[float]
    ci_high: list[float]
    n: int
    df_model: int
    df_resid: int
    r_squared: float
    adj_r_squared: float
    residual_std_error: float
    f_statistic: float
    f_p_value: float
    ss_regression: float
    ss_residual: float
    ss_total: float
    condition_number: float
    warnings: list[str] = field(default_factory=list)
    covariance: list[list[float]] = field(default_factory=list, repr=False)

    def coef(self, term: str) -> float:
        return self.coefficients[self.terms.index(term)]

    def to_dict(self) -> dict[str, Any]:
        names = ("coefficients", "std_errors", "t_values", "p_values", "ci_low", "ci_high")
        return {
            **term_columns(self, *names),
            "n": self.n,
            "df_model": self.df_model,
            "df_resid": self.df_resid,
            **{
                k: nan_to_none(getattr(self, k))
                for k in (
                    "r_squared",
                    "adj_r_squared",
                    "residual_std_error",
                    "f_statistic",
                    "f_p_value",
                    "ss_regression",
                    "ss_residual",
                    "ss_total",
                    "condition_number",
                )
            },
            "warnings": list(self.warnings),
        }

    def to_frame(self) -> pd.DataFrame:
        return coefficient_frame(
            self, t=self.t_values, p_value=self.p_values, ci_low=self.ci_low, ci_high=self.ci_high
        )


def _mean(v: npt.NDArray[np.float64]) -> float:
    first = stable_sum(v) / v.size
    return first + stable_sum(v - first) / v.size


def _centred_ss(v: npt.NDArray[np.float64]) -> float:
    s1 = stable_sum(v)
    return max(stable_sum(v * v) - s1 * s1 / v.size, 0.0)


def ols_arrays(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], names: list[str]
) -> OLSResult:
    """OLS of y on an intercept plus the columns of ``x`` (n × k, finite)."""
    import numpy as np
    from scipy import linalg

    n, k = x.shape
    if n <= k + 1:
        raise DataError(
            "too few rows",
            user_message=(
                f"A regression with {k} predictor(s) needs more than {k + 1} complete rows; "
                f"there are {n}."
            ),
        )
    xbar = np.array([_mean(x[:, j]) for j in range(k)])
    ybar = _mean(y)
    xc, yc = x - xbar, y - ybar
    scale = np.array([math.sqrt(_centred_ss(xc[:, j])) for j in range(k)])
    if np.any(scale == 0.0):
        const = [names[j] for j in range(k) if scale[j] == 0.0]
        raise DataError(
            f"constant predictors {const}",
            user_message=(
                f"The predictor(s) {', '.join(const)} never change, so they cannot explain "
                "anything."
            ),
        )
    z = xc / scale
    sv = np.linalg.svd(z, compute_uv=False)
    cond = float(sv[0] / sv[-1]) if sv[-1] > 0 else math.inf
    if not cond < 1e12:
        raise DataError(
            "collinear predictors",
            user_message=(
                "Some predictors are exact (or near-exact) combinations of others, so their "
                f"effects cannot be separated (condition number {cond:.3g}). Remove one of them."
            ),
        )
    q, r = np.linalg.qr(z)
    bz = linalg.solve_triangular(r, q.T @ yc)
    bz = bz + linalg.solve_triangular(r, q.T @ (yc - z @ bz))  # one refinement step
    resid = yc - z @ bz
    fitted = z @ bz
    ss_res = math.fsum((resid * resid).tolist())
    ss_tot = _centred_ss(yc)
    ss_reg = _centred_ss(fitted)
    df_resid = n - k - 1
    sigma2 = ss_res / df_resid
    rinv = linalg.solve_triangular(r, np.eye(k))
    cov_slopes = sigma2 * (rinv @ rinv.T) / np.outer(scale, scale)
    slopes = bz / scale
    intercept = ybar - math.fsum((xbar * slopes).tolist())
    # Full covariance of (const, slopes): intercept = ybar - xbar·b and ybar ⟂ b.
    cov = np.empty((k + 1, k + 1))
    cov[1:, 1:] = cov_slopes
    cov[0, 1:] = cov[1:, 0] = -(cov_slopes @ xbar)
    cov[0, 0] = sigma2 / n + float(xbar @ cov_slopes @ xbar)
    coef = np.concatenate([[intercept], slopes])
    return _assemble(["const", *names], coef, cov, n=n, ss=(ss_reg, ss_res, ss_tot), cond=cond)


def _assemble(
    terms: list[str],
    coef: npt.NDArray[np.float64],
    cov: npt.NDArray[np.float64],
    *,
    n: int,
    ss: tuple[float, float, float],
    cond: float,
) -> OLSResult:
    """Inference from coefficients, their covariance and the (regression, residual, total) SS."""
    import numpy as np
    from scipy import stats

    k = len(terms) - 1
    ss_reg, ss_res, ss_tot = ss

    df_resid = n - k - 1
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = coef / se
    p = 2.0 * stats.t.sf(np.abs(t), df_resid)
    half = stats.t.ppf(0.975, df_resid) * se
    # R² from whichever sum of squares is smaller: both are computed directly, never by difference.
    r2 = math.nan
    if ss_tot > 0:
        r2 = 1.0 - ss_res / ss_tot if ss_res < ss_reg else ss_reg / ss_tot
    f = (ss_reg / k) / (ss_res / df_resid) if ss_res > 0 else math.inf
    warnings: list[str] = []
    if cond > ILL_CONDITIONED:
        warnings.append(
            f"The predictors are strongly collinear (condition number {cond:.3g} > "
            f"{ILL_CONDITIONED:g}): individual coefficients and their p-values are unstable, "
            "though predictions may be fine."
        )
    return OLSResult(
        terms=terms,
        coefficients=coef.tolist(),
        std_errors=se.tolist(),
        t_values=t.tolist(),
        p_values=p.tolist(),
        ci_low=(coef - half).tolist(),
        ci_high=(coef + half).tolist(),
        n=n,
        df_model=k,
        df_resid=df_resid,
        r_squared=r2,
        adj_r_squared=1.0 - (1.0 - r2) * (n - 1) / df_resid,
        residual_std_error=math.sqrt(ss_res / df_resid),
        f_statistic=f,
        f_p_value=float(stats.f.sf(f, k, df_resid)) if math.isfinite(f) else 0.0,
        ss_regression=ss_reg,
        ss_residual=ss_res,
        ss_total=ss_tot,
        condition_number=cond,
        warnings=warnings,
        covariance=cov.tolist(),
    )


def ols(frame: pd.DataFrame, target: str, features: list[str]) -> OLSResult:
    """OLS of ``target`` on ``features`` (categorical ones one-hot encoded, first level dropped)."""
    require_columns(frame, [target, *features])
    x, y, names, notes = build_design(frame, target, features)
    result = ols_arrays(x, y, names)
    result.warnings[:0] = notes
    return result


def _binomial_transform(mean: float, sd: float, degree: int) -> list[list[Fraction]]:
    """T with b = T c, mapping coefficients of z = (x - mean)/sd to coefficients of x^j."""
    m, s = Fraction(mean), Fraction(sd)
    return [
        [
            Fraction(math.comb(kk, j)) * (-m) ** (kk - j) / s**kk if kk >= j else Fraction(0)
            for kk in range(degree + 1)
        ]
        for j in range(degree + 1)
    ]


def polynomial(frame: pd.DataFrame, target: str, feature: str, degree: int) -> OLSResult:
    """Polynomial of ``degree`` in ``feature``; coefficients of the ORIGINAL powers const, x, …"""
    import numpy as np

    if not 1 <= degree <= MAX_DEGREE:
        raise DataError(
            f"degree {degree}", user_message=f"The degree must be between 1 and {MAX_DEGREE}."
        )
    require_columns(frame, [target, feature])
    x, y, notes = finite_rows(frame, target, feature)
    if np.unique(x).size <= degree:
        raise DataError(
            "too few distinct x",
            user_message=(
                f"A degree-{degree} polynomial needs at least {degree + 1} distinct values "
                f'of "{feature}".'
            ),
        )
    mean = _mean(x)
    sd = math.sqrt(_centred_ss(x - mean) / (x.size - 1))
    z = (x - mean) / sd
    powers = np.column_stack([z**p for p in range(1, degree + 1)])
    inner = ols_arrays(powers, y, [f"z^{p}" for p in range(1, degree + 1)])
    tmat = _binomial_transform(mean, sd, degree)
    c = [Fraction(v) for v in inner.coefficients]
    cov_c = [[Fraction(v) for v in row] for row in inner.covariance]
    p = degree + 1
    coef = np.array([float(sum(tmat[j][kk] * c[kk] for kk in range(p))) for j in range(p)])
    t_cov = [[sum(tmat[i][a] * cov_c[a][b] for a in range(p)) for b in range(p)] for i in range(p)]
    cov = np.array(
        [
            [float(sum(t_cov[i][b] * tmat[j][b] for b in range(p))) for j in range(p)]
            for i in range(p)
        ]
    )
    terms = ["const", feature, *[f"{feature}^{q}" for q in range(2, p)]]
    ss = (inner.ss_regression, inner.ss_residual, inner.ss_total)
    result = _assemble(terms, coef, cov, n=inner.n, ss=ss, cond=inner.condition_number)
    if degree > 1 and abs(mean) > 100 * sd:
        notes.append(
            f'"{feature}" lies far from zero relative to its spread (mean {mean:.4g}, '
            f"sd {sd:.3g}): the coefficients of its raw powers are strongly correlated and "
            "individually imprecise, although the fitted curve is accurate (statbot fits in "
            "centred, scaled units)."
        )
    result.warnings[:0] = notes
    return result
