"""Logistic regression (statsmodels' Newton-Raphson Logit) with separation detected and explained.

Under complete or quasi-complete separation the maximum-likelihood estimate does not exist: a
coefficient runs off to infinity and its standard error with it (Albert & Anderson 1984). We
detect it three ways — a single predictor whose values split the two outcomes, statsmodels'
own separation warning/failure to converge, and fitted probabilities pinned at 0 or 1 — and say
so in words instead of printing meaningless p-values as if they were fine.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from statbot.analysis.frames import (
    by_term,
    coefficient_frame,
    nan_to_none,
    require_columns,
    term_columns,
)
from statbot.analysis.stats.design import Design, design
from statbot.errors import DataError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

_PINNED = 1e-9


@dataclass(frozen=True)
class LogitResult:
    terms: list[str]
    coefficients: list[float]
    std_errors: list[float]
    z_values: list[float]
    p_values: list[float]
    ci_low: list[float]
    ci_high: list[float]
    odds_ratios: list[float]
    n: int
    event: str  # the outcome level modelled as 1
    pseudo_r_squared: float  # McFadden
    log_likelihood: float
    ll_null: float
    lr_p_value: float
    converged: bool
    separation: str | None
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        names = ("coefficients", "std_errors", "z_values", "p_values", "ci_low", "ci_high")
        return {
            **term_columns(self, *names, "odds_ratios"),
            "odds_ratio_ci_low": by_term(self.terms, [_exp(v) for v in self.ci_low]),
            "odds_ratio_ci_high": by_term(self.terms, [_exp(v) for v in self.ci_high]),
            "n": self.n,
            "event": self.event,
            "pseudo_r_squared": nan_to_none(self.pseudo_r_squared),
            "log_likelihood": nan_to_none(self.log_likelihood),
            "ll_null": nan_to_none(self.ll_null),
            "lr_p_value": nan_to_none(self.lr_p_value),
            "converged": self.converged,
            "separation": self.separation,
            "warnings": list(self.warnings),
        }

    def to_frame(self) -> pd.DataFrame:
        return coefficient_frame(
            self, z=self.z_values, p_value=self.p_values, odds_ratio=self.odds_ratios
        )


def _exp(v: float) -> float:
    try:
        return math.exp(v)
    except OverflowError:
        return math.inf


def binary_outcome(
    series: pd.Series, name: str
) -> tuple[npt.NDArray[np.float64], str, npt.NDArray[np.bool_]]:
    """(0/1 outcome, label of the level coded 1, mask of usable rows)."""
    import numpy as np

    present = series.notna().to_numpy()
    levels = sorted({v for v in series[present].tolist()}, key=lambda v: (str(type(v)), v))
    if len(levels) != 2:
        raise DataError(
            f"{name} has {len(levels)} levels",
            user_message=(
                "Logistic regression needs a target with exactly two values; "
                f'"{name}" has {len(levels)}.'
            ),
        )
    event = levels[1]
    y = np.array([1.0 if v == event else 0.0 for v in series.tolist()])
    whole = isinstance(event, float) and event.is_integer()  # 0.0/1.0 read as floats: "1"
    return y, str(int(event)) if whole else str(event), present


def _separating_features(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], names: list[str]
) -> tuple[list[str], bool]:
    """Predictors that split the outcomes on their own, and whether any split is strict."""
    found, strict = [], False
    for j, name in enumerate(names):
        col = x[:, j]
        ones, zeros = col[y == 1.0], col[y == 0.0]
        if ones.min() >= zeros.max() or ones.max() <= zeros.min():
            found.append(name)
            strict = strict or bool(ones.min() > zeros.max() or ones.max() < zeros.min())
    return found, strict


def logit_design(frame: pd.DataFrame, target: str, features: list[str]) -> tuple[Design, str]:
    """The design of a two-level ``target`` on ``features`` (y coded 0/1; ``rows`` are
    positions in ``frame``), and the label of the level coded 1."""
    import numpy as np

    require_columns(frame, [target, *features])
    y_all, event, present = binary_outcome(frame[target], target)
    work = frame.loc[present, [*features]].copy()
    work["__y__"] = y_all[present]
    d = design(work, "__y__", features)
    if np.unique(d.y).size < 2:
        raise DataError(
            "one outcome only",
            user_message=f'After dropping missing rows "{target}" has only one value.',
        )
    notes = [n.replace("__y__", target) for n in d.notes]
    return replace(d, notes=notes, rows=np.flatnonzero(present)[d.rows]), event


def logit(frame: pd.DataFrame, target: str, features: list[str]) -> LogitResult:
    """Logistic regression of a two-level ``target`` on ``features``."""
    d, event = logit_design(frame, target, features)
    return logit_fit(d, event)


def logit_fit(d: Design, event: str) -> LogitResult:
    """Fit the design from :func:`logit_design` (Newton-Raphson, separation explained)."""
    import numpy as np
    import statsmodels.api as sm
    from scipy import stats

    x, y, names, notes = d.x, d.y, d.names, list(d.notes)
    design_matrix = np.column_stack([np.ones(len(y)), x])
    terms = ["const", *names]
    separated, strict = _separating_features(x, y, names)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = sm.Logit(y, design_matrix).fit(method="newton", maxiter=100, disp=False)
        except np.linalg.LinAlgError as exc:
            raise DataError(
                "singular logit Hessian",
                user_message=(
                    "The predictors are collinear or perfectly predict the outcome; the "
                    "logistic model cannot be estimated. Remove redundant predictors."
                ),
            ) from exc
    warned = [str(w.message) for w in caught]
    converged = bool(fit.mle_retvals.get("converged", False))
    prob = np.asarray(fit.predict(design_matrix))
    pinned = int(np.sum((prob < _PINNED) | (prob > 1 - _PINNED)))
    separation = None
    if separated or pinned or any("separation" in w.lower() for w in warned):
        who = f" by {', '.join(separated)}" if separated else ""
        separation = (
            f"The outcome is {'completely' if strict else 'almost completely'} predictable{who} "
            f"({'complete' if strict else 'quasi-complete'} separation): "
            f"{pinned or 'some'} rows get a fitted probability of exactly 0 or 1, so the "
            "best-fitting coefficients are infinite. The estimates, standard errors and "
            "p-values are not meaningful; drop or merge the separating predictor, or collect "
            "more varied data."
        )
    if not converged and separation is None:
        notes.append("The fit did not converge; treat the estimates with caution.")
    params = np.asarray(fit.params, dtype=float)
    with np.errstate(invalid="ignore", over="ignore"):
        se = np.sqrt(np.clip(np.diag(np.asarray(fit.cov_params(), dtype=float)), 0.0, None))
        z = params / se
    p = 2.0 * stats.norm.sf(np.abs(z))
    half = stats.norm.ppf(0.975) * se
    llr_p = float(fit.llr_pvalue)
    return LogitResult(
        terms=terms,
        coefficients=params.tolist(),
        std_errors=se.tolist(),
        z_values=z.tolist(),
        p_values=p.tolist(),
        ci_low=(params - half).tolist(),
        ci_high=(params + half).tolist(),
        odds_ratios=[_exp(v) for v in params.tolist()],
        n=len(y),
        event=event,
        pseudo_r_squared=float(fit.prsquared),
        log_likelihood=float(fit.llf),
        ll_null=float(fit.llnull),
        lr_p_value=llr_p,
        converged=converged,
        separation=separation,
        warnings=[*notes, *([separation] if separation else [])],
    )


__all__ = ["LogitResult", "binary_outcome", "logit", "logit_design", "logit_fit"]
