"""The regression section a JASP or R user expects (issue 11), one object for the chat and
``statbot analyze ols/logit`` alike: the coefficient table (coefficient, SE, t or z, p, 95% CI,
standardised β, VIF, the reference level of each dummy; odds ratios with CIs for logistic
regression), the residual checks, and the sentences that say what they mean.

The fits are unchanged: OLS is the NIST-validated QR of :func:`regression.ols_arrays`, logistic
regression statsmodels' Newton-Raphson of :func:`logistic.logit_fit`. Standardised β: for OLS
bⱼ·sd(xⱼ)/sd(y) (the coefficient of the regression of z-scored y on z-scored predictors, dummies
included); for logistic regression bⱼ·sd(xⱼ), the change in log-odds per sd of xⱼ.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from statbot.analysis.frames import nan_to_none, require_columns
from statbot.analysis.stats import diagnostics
from statbot.analysis.stats import regression_phrases as say
from statbot.analysis.stats._phrases import ALPHA
from statbot.analysis.stats.design import Design, design
from statbot.analysis.stats.logistic import LogitResult, logit_design, logit_fit
from statbot.analysis.stats.regression import OLSResult, ols_arrays

if TYPE_CHECKING:
    import pandas as pd

    from statbot.analysis.stats.diagnostics import ResidualChecks

MAX_TERM_SENTENCES = 12


@dataclass(frozen=True)
class RegressionReport:
    kind: Literal["ols", "logit"]
    target: str
    result: OLSResult | LogitResult
    features: dict[str, str]  # term → the column it comes from (const → "")
    references: dict[str, str]  # factor → reference level
    std_betas: list[float]  # per term; NaN for the intercept
    vifs: list[float]  # per term (design column); NaN for the intercept
    predictor_vifs: dict[str, tuple[float, int]]  # feature → (GVIF, df); GVIF = VIF for df 1
    checks: ResidualChecks | None  # OLS only

    @property
    def terms(self) -> list[str]:
        return self.result.terms

    def reference_of(self, term: str) -> str | None:
        feature = self.features.get(term, "")
        return self.references.get(feature) if term != feature else None

    def sentences(self) -> list[str]:
        """What the numbers say, in the order a reader needs them; every number cited."""
        return [*self.model_sentences(), *self.check_sentences()]

    def check_sentences(self) -> list[str]:
        """The residual checks (OLS): normality, constant variance, influential points."""
        if self.checks is None:
            return []
        usual = sum(p < ALPHA for p in self.result.p_values[1:])
        robust = sum(p < ALPHA for p in self.robust_p_values()[1:])
        return [
            say.normality(self.checks),
            say.constant_variance(self.checks, (usual, robust, len(self.terms) - 1)),
            say.influence(self.checks),
        ]

    def robust_p_values(self) -> list[float]:
        """Two-sided p-values of t = b / HC3 SE on the residual df (OLS; [] otherwise)."""
        from scipy import stats

        r = self.result
        if self.checks is None or not isinstance(r, OLSResult):
            return []
        return [
            float(2.0 * stats.t.sf(abs(b / se), r.df_resid)) if se > 0 else math.nan
            for b, se in zip(r.coefficients, self.checks.robust_std_errors, strict=True)
        ]

    def model_sentences(self) -> list[str]:
        """The fit, each term, the reference levels and collinearity."""
        r = self.result
        lines: list[str] = []
        if isinstance(r, OLSResult):
            lines.append(say.ols_fit(r, self.target, len(self.predictor_vifs)))
        else:
            lines.append(say.logit_fit(r, self.target, len(self.predictor_vifs)))
        for i, term in enumerate(self.terms[:MAX_TERM_SENTENCES]):
            if isinstance(r, OLSResult):
                lines.append(
                    say.ols_term(
                        r,
                        i,
                        target=self.target,
                        feature=self.features[term],
                        reference=self.reference_of(term),
                        beta=self.std_betas[i],
                        categories=bool(self.references),
                    )
                )
            elif r.separation is None:
                lines.append(
                    say.logit_term(
                        r,
                        i,
                        target=self.target,
                        feature=self.features[term],
                        reference=self.reference_of(term),
                        categories=bool(self.references),
                    )
                )
        if len(self.terms) > MAX_TERM_SENTENCES:
            lines.append(f"… {len(self.terms) - MAX_TERM_SENTENCES} more terms in the table.")
        lines += [s for s in (say.references(self.references), self._collinearity()) if s]
        return lines

    def _collinearity(self) -> str | None:
        dummies = {
            f: max(v for t, v in zip(self.terms, self.vifs, strict=True) if self.features[t] == f)
            for f, (_, df) in self.predictor_vifs.items()
            if df > 1
        }
        return say.collinearity(self.predictor_vifs, dummies)

    def warnings(self) -> list[str]:
        return list(self.result.warnings)

    def to_frame(self) -> pd.DataFrame:
        """The coefficient table, one row per term, full precision."""
        import pandas as pd

        r = self.result
        stat = r.t_values if isinstance(r, OLSResult) else r.z_values
        columns: dict[str, Any] = {
            "term": self.terms,
            "reference": [self.reference_of(t) or "" for t in self.terms],
            "coefficient": r.coefficients,
            "std_error": r.std_errors,
            "t" if isinstance(r, OLSResult) else "z": stat,
            "p_value": r.p_values,
            "ci_low": r.ci_low,
            "ci_high": r.ci_high,
            "std_beta": self.std_betas,
            "vif": self.vifs,
        }
        if self.checks is not None:
            columns["robust_se_hc3"] = self.checks.robust_std_errors
            columns["robust_p_hc3"] = self.robust_p_values()
        if isinstance(r, LogitResult):
            columns["odds_ratio"] = r.odds_ratios
            columns["odds_ratio_ci_low"] = [_exp(v) for v in r.ci_low]
            columns["odds_ratio_ci_high"] = [_exp(v) for v in r.ci_high]
        return pd.DataFrame(columns)

    def to_dict(self) -> dict[str, Any]:
        """The result's own keys (unchanged), plus the report's."""

        def keyed(values: list[float]) -> dict[str, float | None]:
            return {t: nan_to_none(v) for t, v in zip(self.terms, values, strict=True)}

        return {
            "model": self.kind,
            "target": self.target,
            **self.result.to_dict(),
            "std_betas": keyed(self.std_betas),
            "vif": keyed(self.vifs),
            "predictor_vif": {
                f: {"gvif": g, "df": df, "gvif_scaled": diagnostics.gvif_scaled(g, df)}
                for f, (g, df) in self.predictor_vifs.items()
            },
            "reference_levels": dict(self.references),
            "term_references": {t: self.reference_of(t) for t in self.terms},
            "residual_checks": None if self.checks is None else self.checks.to_dict(),
            "robust_std_errors": (
                None if self.checks is None else keyed(self.checks.robust_std_errors)
            ),
            "robust_p_values": None if self.checks is None else keyed(self.robust_p_values()),
            "sentences": self.sentences(),
        }


def _exp(v: float) -> float:
    try:
        return math.exp(v)
    except OverflowError:
        return math.inf


def _per_term(d: Design, values: list[float]) -> list[float]:
    return [math.nan, *values] if d.names else [math.nan]


def _predictor_vifs(d: Design) -> dict[str, tuple[float, int]]:
    groups: dict[str, list[int]] = {}
    for j, name in enumerate(d.names):
        groups.setdefault(d.term_of[name], []).append(j)
    values = diagnostics.gvif(d.x, list(groups.values()))
    return {f: (v, len(g)) for (f, g), v in zip(groups.items(), values, strict=True)}


def ols_report(frame: pd.DataFrame, target: str, features: list[str]) -> RegressionReport:
    """OLS of ``target`` on ``features`` with the whole regression section."""
    require_columns(frame, [target, *features])
    d = design(frame, target, features)
    result = ols_arrays(d.x, d.y, d.names)
    result.warnings[:0] = d.notes
    y_sd = float(d.y.std(ddof=1))
    return RegressionReport(
        kind="ols",
        target=target,
        result=result,
        features={"const": "", **d.term_of},
        references=dict(d.references),
        std_betas=_per_term(d, diagnostics.standardised(d.x, result.coefficients[1:], y_sd)),
        vifs=_per_term(d, diagnostics.vif(d.x)),
        predictor_vifs=_predictor_vifs(d),
        checks=diagnostics.residual_checks(d.x, d.y, result.coefficients, d.rows),
    )


def logit_report(frame: pd.DataFrame, target: str, features: list[str]) -> RegressionReport:
    """Logistic regression of a two-level ``target`` with the regression section."""
    d, event = logit_design(frame, target, features)
    result = logit_fit(d, event)
    return RegressionReport(
        kind="logit",
        target=target,
        result=result,
        features={"const": "", **d.term_of},
        references=dict(d.references),
        std_betas=_per_term(d, diagnostics.standardised(d.x, result.coefficients[1:], 1.0)),
        vifs=_per_term(d, diagnostics.vif(d.x)),
        predictor_vifs=_predictor_vifs(d),
        checks=None,
    )


__all__ = ["RegressionReport", "logit_report", "ols_report"]
