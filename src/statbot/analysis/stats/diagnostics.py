"""What a regression table alone does not say (issue 11): standardised coefficients, variance
inflation factors, and the residual checks — normality, constant variance (Breusch-Pagan) and
influential points (leverage, Cook's distance).

The fit itself stays the NIST-validated QR path of :mod:`statbot.analysis.stats.regression`;
these quantities are computed from its coefficients and the same design, again without forming
normal equations: leverages and VIFs come from a QR of the centred, unit-length predictors
(hᵢ = 1/n + ‖Qᵢ‖², VIFⱼ = ‖row j of R⁻¹‖², since ZᵀZ is then the predictors' correlation
matrix). tests/analysis/stats/test_diagnostics.py checks every number against statsmodels
(``variance_inflation_factor``, ``het_breuschpagan``, ``OLSInfluence``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from statbot.analysis.frames import nan_to_none

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

SHAPIRO_MAX_N = 5000  # scipy's Shapiro-Wilk p-value is exact only up to here
TOP_ROWS = 5


def _unit_qr(x: npt.NDArray[np.float64]) -> tuple[Any, Any]:
    """Thin QR of the centred predictors scaled to unit length."""
    import numpy as np

    xc = x - x.mean(axis=0)
    scale = np.sqrt(np.einsum("ij,ij->j", xc, xc))
    return np.linalg.qr(xc / scale)


def vif(x: npt.NDArray[np.float64]) -> list[float]:
    """Variance inflation factor of each column of ``x`` (model with an intercept)."""
    import numpy as np
    from scipy import linalg

    _, r = _unit_qr(x)
    rinv = linalg.solve_triangular(r, np.eye(x.shape[1]))
    return [float(v) for v in np.einsum("ij,ij->i", rinv, rinv)]


def gvif(x: npt.NDArray[np.float64], groups: list[list[int]]) -> list[float]:
    """Fox & Monette's (1992) generalised VIF of each group of columns of ``x`` (a factor's
    dummies): det(R₁₁)·det(R₂₂)/det(R) for the correlation matrix R of the columns; for a
    single column it is that column's VIF. On VIF's scale it is GVIF^(1/df) (see
    :func:`gvif_scaled`): the dummies of one factor overlap with each other by construction,
    most when its reference level is rare, so their single VIFs overstate collinearity."""
    import numpy as np

    _, r = _unit_qr(x)
    corr = r.T @ r

    def logdet(index: list[int]) -> float:
        return float(np.linalg.slogdet(corr[np.ix_(index, index)])[1]) if index else 0.0

    everything = list(range(x.shape[1]))
    whole = logdet(everything)
    out = []
    for group in groups:
        rest = [j for j in everything if j not in group]
        out.append(math.exp(logdet(group) + logdet(rest) - whole))
    return out


def gvif_scaled(value: float, df: int) -> float:
    """GVIF^(1/df): comparable with an ordinary VIF (car::vif reports its square root)."""
    return float(value ** (1.0 / df))


def hc3_std_errors(
    x: npt.NDArray[np.float64], resid: npt.NDArray[np.float64], h: npt.NDArray[np.float64]
) -> list[float]:
    """Heteroscedasticity-robust (MacKinnon & White's HC3) standard errors, const first: the
    sandwich M diag(eᵢ²/(1-hᵢ)²) Mᵀ of the estimator's linear map M, built from the same
    centred, unit-length QR (slopes: diag(1/scale) R⁻¹ Qᵀ; intercept: 1/n - x̄ᵀ·slopes)."""
    import numpy as np
    from scipy import linalg

    xbar = x.mean(axis=0)
    xc = x - xbar
    scale = np.sqrt(np.einsum("ij,ij->j", xc, xc))
    q, r = np.linalg.qr(xc / scale)
    slopes = linalg.solve_triangular(r, q.T) / scale[:, None]
    m = np.vstack([1.0 / x.shape[0] - xbar @ slopes, slopes])
    with np.errstate(divide="ignore", invalid="ignore"):
        w = resid**2 / (1.0 - h) ** 2
    return [float(v) for v in np.sqrt(np.einsum("ij,j,ij->i", m, w, m))]


def leverage(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Diagonal of the hat matrix of [1, x]."""
    import numpy as np

    q, _ = _unit_qr(x)
    h: npt.NDArray[np.float64] = 1.0 / x.shape[0] + np.einsum("ij,ij->i", q, q)
    return h


def standardised(x: npt.NDArray[np.float64], slopes: list[float], y_sd: float) -> list[float]:
    """bⱼ · sd(xⱼ) / y_sd: the change in y (in its sds) per sd of xⱼ. For logistic regression
    ``y_sd`` is 1 (the change in log-odds per sd of xⱼ)."""
    sd = x.std(axis=0, ddof=1)
    return [b * s / y_sd for b, s in zip(slopes, sd.tolist(), strict=True)]


@dataclass(frozen=True)
class CheckResult:
    test: str
    statistic: float
    p_value: float
    df: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "test": self.test,
            "statistic": nan_to_none(self.statistic),
            "df": self.df,
            "p_value": nan_to_none(self.p_value),
        }


@dataclass(frozen=True)
class InfluentialRow:
    row: int  # the data row in the file, counting from 1 (the header not counted)
    cooks_distance: float
    leverage: float
    studentized_residual: float  # externally studentized

    def to_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "cooks_distance": nan_to_none(self.cooks_distance),
            "leverage": nan_to_none(self.leverage),
            "studentized_residual": nan_to_none(self.studentized_residual),
        }


@dataclass(frozen=True)
class ResidualChecks:
    n: int
    normality: CheckResult
    skewness: float
    excess_kurtosis: float
    breusch_pagan: CheckResult  # Koenker's studentised LM statistic
    breusch_pagan_f: float
    breusch_pagan_f_p: float
    cooks_threshold: float  # 4 / n
    leverage_threshold: float  # 2 p / n
    n_influential: int  # Cook's distance above the threshold
    n_cooks_above_1: int
    n_high_leverage: int
    # the largest Cook's distances: those above the threshold (at most TOP_ROWS), else the largest
    top: list[InfluentialRow]
    robust_std_errors: list[float] = field(default_factory=list)  # HC3, const first
    fitted: list[float] = field(repr=False, default_factory=list)
    residuals: list[float] = field(repr=False, default_factory=list)
    standardised_residuals: list[float] = field(repr=False, default_factory=list)
    studentized_residuals: list[float] = field(repr=False, default_factory=list)
    leverages: list[float] = field(repr=False, default_factory=list)
    cooks: list[float] = field(repr=False, default_factory=list)
    rows: list[int] = field(repr=False, default_factory=list)  # 1-based, as in ``top``

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "normality": self.normality.to_dict(),
            "skewness": nan_to_none(self.skewness),
            "excess_kurtosis": nan_to_none(self.excess_kurtosis),
            "breusch_pagan": {
                **self.breusch_pagan.to_dict(),
                "f_statistic": nan_to_none(self.breusch_pagan_f),
                "f_p_value": nan_to_none(self.breusch_pagan_f_p),
            },
            "influence": {
                "cooks_threshold": self.cooks_threshold,
                "leverage_threshold": self.leverage_threshold,
                "n_influential": self.n_influential,
                "n_cooks_above_1": self.n_cooks_above_1,
                "n_high_leverage": self.n_high_leverage,
                "top": [r.to_dict() for r in self.top],
            },
        }

    def to_frame(self) -> Any:
        """One line per row used: fitted value, residual, studentised residuals, leverage, D."""
        import pandas as pd

        return pd.DataFrame(
            {
                "row": self.rows,
                "fitted": self.fitted,
                "residual": self.residuals,
                "standardised_residual": self.standardised_residuals,
                "studentized_residual": self.studentized_residuals,
                "leverage": self.leverages,
                "cooks_distance": self.cooks,
            }
        )


def normality(resid: npt.NDArray[np.float64]) -> CheckResult:
    """Shapiro-Wilk up to SHAPIRO_MAX_N residuals, D'Agostino-Pearson K² above."""
    import numpy as np
    from scipy import stats

    if np.ptp(resid) == 0.0:
        return CheckResult("Shapiro-Wilk", math.nan, math.nan)
    if resid.size <= SHAPIRO_MAX_N:
        w = stats.shapiro(resid)
        return CheckResult("Shapiro-Wilk", float(w.statistic), float(w.pvalue))
    k2 = stats.normaltest(resid)
    return CheckResult("D'Agostino-Pearson", float(k2.statistic), float(k2.pvalue), 2)


def breusch_pagan(
    resid: npt.NDArray[np.float64], x: npt.NDArray[np.float64]
) -> tuple[CheckResult, float, float]:
    """Koenker's studentised Breusch-Pagan test (statsmodels' default, robust to non-normal
    errors): LM = n·R² of the squared residuals on [1, x], χ² with k df; and its F form."""
    import numpy as np
    from scipy import stats

    n, k = x.shape
    u2 = resid * resid
    u2c = u2 - u2.mean()
    q, _ = _unit_qr(x)
    explained = q.T @ u2c
    ss_tot = math.fsum((u2c * u2c).tolist())
    if ss_tot == 0.0:
        return CheckResult("Breusch-Pagan", math.nan, math.nan, k), math.nan, math.nan
    r2 = min(math.fsum((explained * explained).tolist()) / ss_tot, 1.0)
    lm = n * r2
    with np.errstate(divide="ignore"):
        f = (r2 / k) / ((1.0 - r2) / (n - k - 1)) if r2 < 1.0 else math.inf
    return (
        CheckResult("Breusch-Pagan", lm, float(stats.chi2.sf(lm, k)), k),
        f,
        float(stats.f.sf(f, k, n - k - 1)),
    )


def residual_checks(
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    coefficients: list[float],
    rows: npt.NDArray[np.int64],
) -> ResidualChecks:
    """Residual checks of the OLS fit ``coefficients`` (const first) of y on [1, x]; ``rows``
    are the 0-based positions in the frame of the rows used."""
    import numpy as np
    from scipy import stats

    n, k = x.shape
    p = k + 1
    coef = np.asarray(coefficients)
    fitted = coef[0] + x @ coef[1:]
    resid = y - fitted
    h = leverage(x)
    s2 = math.fsum((resid * resid).tolist()) / (n - p)
    with np.errstate(divide="ignore", invalid="ignore"):
        internal = resid / np.sqrt(s2 * (1.0 - h))
        external = internal * np.sqrt((n - p - 1) / (n - p - internal**2))
        cooks = internal**2 / p * h / (1.0 - h)
    threshold = 4.0 / n
    order = np.argsort(-np.nan_to_num(cooks, nan=-1.0), kind="stable")
    above = [i for i in order if cooks[i] > threshold]
    top = [
        InfluentialRow(int(rows[i]) + 1, float(cooks[i]), float(h[i]), float(external[i]))
        for i in (above[:TOP_ROWS] or order[:1])
    ]
    bp, bp_f, bp_f_p = breusch_pagan(resid, x)
    return ResidualChecks(
        n=n,
        normality=normality(resid),
        skewness=float(stats.skew(resid)),
        excess_kurtosis=float(stats.kurtosis(resid)),
        breusch_pagan=bp,
        breusch_pagan_f=bp_f,
        breusch_pagan_f_p=bp_f_p,
        cooks_threshold=threshold,
        leverage_threshold=2.0 * p / n,
        n_influential=len(above),
        n_cooks_above_1=int(np.sum(cooks > 1.0)),
        n_high_leverage=int(np.sum(h > 2.0 * p / n)),
        top=top,
        robust_std_errors=hc3_std_errors(x, resid, h),
        fitted=fitted.tolist(),
        residuals=resid.tolist(),
        standardised_residuals=internal.tolist(),
        studentized_residuals=external.tolist(),
        leverages=h.tolist(),
        cooks=cooks.tolist(),
        rows=(rows + 1).tolist(),
    )


__all__ = [
    "CheckResult",
    "InfluentialRow",
    "ResidualChecks",
    "breusch_pagan",
    "gvif",
    "gvif_scaled",
    "hc3_std_errors",
    "leverage",
    "normality",
    "residual_checks",
    "standardised",
    "vif",
]
