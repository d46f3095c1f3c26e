"""The sentences of a regression report (issue 11), each built from the numbers it cites.

Numbers are rounded for reading (3 significant digits, :func:`num`); the report's table and
JSON keep full precision. "Statistically significant" is only ever written next to the p-value
it rests on, at the 5% level (``ALPHA``). Rows are named as data rows counted from 1.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from statbot.analysis.stats._phrases import ALPHA, num, pval

if TYPE_CHECKING:
    from statbot.analysis.stats.diagnostics import ResidualChecks
    from statbot.analysis.stats.logistic import LogitResult
    from statbot.analysis.stats.regression import OLSResult

VIF_MODERATE, VIF_HIGH = 5.0, 10.0
LARGE_N = 100  # from here on, tests of coefficients lean on the central limit theorem


def _verdict(p: float) -> str:
    return "statistically significant" if p < ALPHA else "not statistically significant"


def _predictors(predictors: int, terms: int) -> str:
    """'3 predictors', or '3 predictors (7 terms)' when categories add dummy terms."""
    text = f"{predictors} predictor{'' if predictors == 1 else 's'}"
    return text if terms == predictors else f"{text} ({terms} terms)"


def _level(term: str, feature: str) -> str:
    return term[len(feature) + 3 : -1]  # "city[T.b]" → "b"


def _ci(lo: float, hi: float) -> str:
    return f"95% CI {num(lo)} to {num(hi)}"


def _baseline(categories: bool) -> str:
    tail = " and every category is at its reference level" if categories else ""
    return f"when every numeric predictor is 0{tail}"


def _rows(count: int, of: int) -> str:
    return f"{count} of {of} rows {'has' if count == 1 else 'have'}"


def ols_fit(r: OLSResult, target: str, predictors: int) -> str:
    share = "a statistically significant" if r.f_p_value < ALPHA else "no statistically significant"
    return (
        f"Linear regression of {target} on {_predictors(predictors, r.df_model)}, n = {r.n}: "
        f"R² = {num(r.r_squared)} (adjusted {num(r.adj_r_squared)}); together the predictors "
        f"explain {share} share of its variance (F({r.df_model}, {r.df_resid}) = "
        f"{num(r.f_statistic)}, {pval(r.f_p_value)})."
    )


def ols_term(
    r: OLSResult,
    i: int,
    *,
    target: str,
    feature: str,
    reference: str | None,
    beta: float,
    categories: bool = False,
) -> str:
    b, p = r.coefficients[i], r.p_values[i]
    numbers = f"{_ci(r.ci_low[i], r.ci_high[i])}; t = {num(r.t_values[i])}, {pval(p)}"
    if i == 0:
        return f"Intercept: {num(b)} ({numbers}), the predicted {target} {_baseline(categories)}."
    more = "more" if b > 0 else "less"
    if reference is not None:
        higher = "higher" if b > 0 else "lower"
        change = f"{target} is {num(abs(b))} {higher} than at the reference level {reference}"
        return (
            f"{feature} = {_level(r.terms[i], feature)}: {change}, other predictors held "
            f"fixed ({numbers}); {_verdict(p)}."
        )
    return (
        f"{feature}: each unit more goes with {num(abs(b))} {more} {target}, other predictors "
        f"held fixed ({numbers}; standardised β = {num(beta)}); {_verdict(p)}."
    )


def logit_fit(r: LogitResult, target: str, predictors: int) -> str:
    k = len(r.terms) - 1
    chi2 = 2.0 * (r.log_likelihood - r.ll_null)
    better = "significantly better" if r.lr_p_value < ALPHA else "not significantly better"
    return (
        f"Logistic regression of the probability that {target} = {r.event} on "
        f"{_predictors(predictors, k)}, n = {r.n}: McFadden pseudo-R² = "
        f"{num(r.pseudo_r_squared)}; the model fits {better} than one without predictors "
        f"(likelihood-ratio χ²({k}) = "
        f"{num(chi2)}, {pval(r.lr_p_value)})."
    )


def logit_term(
    r: LogitResult,
    i: int,
    *,
    target: str,
    feature: str,
    reference: str | None,
    categories: bool = False,
) -> str:
    ratio, p = r.odds_ratios[i], r.p_values[i]
    lo, hi = math.exp(r.ci_low[i]), math.exp(r.ci_high[i])
    numbers = f"{_ci(lo, hi)}; z = {num(r.z_values[i])}, {pval(p)}"
    odds = f"the odds of {target} = {r.event}"
    if i == 0:
        return f"Intercept: {odds} are {num(ratio)} ({numbers}) {_baseline(categories)}."
    if reference is not None:
        return (
            f"{feature} = {_level(r.terms[i], feature)}: {odds} are {num(ratio)} times those at "
            f"the reference level {reference}, other predictors held fixed ({numbers}); "
            f"{_verdict(p)}."
        )
    return (
        f"{feature}: each unit more multiplies {odds} by {num(ratio)}, other predictors held "
        f"fixed ({numbers}); {_verdict(p)}."
    )


def references(refs: dict[str, str]) -> str | None:
    if not refs:
        return None
    pairs = ", ".join(f"{feature} with {level}" for feature, level in refs.items())
    return (
        f"Categories are compared with a reference level (the first in alphabetical order): "
        f"{pairs}."
    )


def collinearity(
    predictors: dict[str, tuple[float, int]], dummy_max: dict[str, float]
) -> str | None:
    """Per predictor: its VIF, or for a category GVIF^(1/df) on the same scale (its dummies'
    largest single VIF in ``dummy_max``); nothing to say for a single predictor."""
    if len(predictors) < 2:
        return None
    scaled = {f: g ** (1.0 / df) for f, (g, df) in predictors.items()}
    ranked = sorted(((v, f) for f, v in scaled.items()), reverse=True)
    high = [(v, f) for v, f in ranked if v > VIF_HIGH]
    moderate = [(v, f) for v, f in ranked if VIF_MODERATE < v <= VIF_HIGH]
    listing = ", ".join(f"{f} (VIF {num(v)})" for v, f in (high or moderate)[:5])
    also = ", ".join(f"{f} ({num(v)})" for v, f in moderate[:5]) if high else ""
    note = ""
    named = [f for _, f in (high + moderate)[:5]] if high or moderate else [ranked[0][1]]
    if any(f in dummy_max for f in named):
        note = (
            " For a category the VIF shown is the generalised VIF of all its dummies, GVIF^(1/df)."
        )
    misleading = [
        f"{f} ({num(v)})"
        for f, v in dummy_max.items()
        if v > VIF_HIGH and scaled[f] <= VIF_MODERATE
    ]
    if misleading:
        note += (
            f" The single dummies of {', '.join(misleading)} have larger VIFs only because "
            "they overlap with each other (a rare reference level makes that worse); that is "
            "no collinearity with the other predictors."
        )
    if high:
        v = high[0][0]
        verb = "has" if len(high) == 1 else "have"
        return (
            f"Warning: strong collinearity. {listing} {verb} a variance inflation factor above "
            f"{VIF_HIGH:g}: such a predictor is largely predictable from the others, so its "
            f"own coefficient is unstable and its standard error up to √VIF = "
            f"{num(math.sqrt(v))} times larger than without the overlap. Consider dropping or "
            f"combining predictors that measure the same thing."
            f"{f' Moderate (VIF above {VIF_MODERATE:g}): {also}.' if also else ''}{note}"
        )
    if moderate:
        verb = "has" if len(moderate) == 1 else "have"
        return (
            f"Collinearity: {listing} {verb} a variance inflation factor above "
            f"{VIF_MODERATE:g} (moderate overlap with the other predictors; standard errors "
            f"inflated by √VIF).{note}"
        )
    v, f = ranked[0]
    return (
        f"Collinearity: every variance inflation factor is at most {VIF_MODERATE:g} (largest "
        f"{num(v)}, {f}), so the predictors overlap little.{note}"
    )


def normality(c: ResidualChecks) -> str:
    t = c.normality
    if math.isnan(t.p_value):
        return "Normality of residuals: not checked (the residuals are all equal)."
    letter = "W" if t.test == "Shapiro-Wilk" else "K²"
    numbers = f"{t.test} {letter} = {num(t.statistic)}, {pval(t.p_value)}"
    if t.p_value >= ALPHA:
        return f"Normality of residuals: no evidence against it ({numbers})."
    shape = f"skewness {num(c.skewness)}, excess kurtosis {num(c.excess_kurtosis)}"
    if c.n >= LARGE_N:
        consequence = (
            f"with n = {c.n} rows the coefficients' p-values and CIs are still approximately "
            "valid (central limit theorem), but look at the Q-Q chart"
        )
    else:
        consequence = f"with only n = {c.n} rows, treat the p-values and CIs with caution"
    return (
        f"Normality of residuals: they depart from a normal distribution ({numbers}; {shape}); "
        f"{consequence}."
    )


def constant_variance(c: ResidualChecks, significant: tuple[int, int, int]) -> str:
    """``significant``: terms (intercept aside) with p < ALPHA with the usual and with HC3
    standard errors, and the number of terms."""
    t = c.breusch_pagan
    if math.isnan(t.p_value):
        return "Constant variance: not checked (the residuals are all equal)."
    usual, robust, terms = significant
    numbers = f"Breusch-Pagan LM = {num(t.statistic)}, df = {t.df}, {pval(t.p_value)}"
    if t.p_value >= ALPHA:
        return (
            "Constant variance: no evidence that the spread of the residuals changes with the "
            f"predictors ({numbers})."
        )
    return (
        "Constant variance: the spread of the residuals changes with the predictors "
        f"(heteroscedasticity; {numbers}), so the standard errors, p-values and CIs, which "
        "assume a constant spread, may be off; see the residuals-vs-fitted chart. With "
        f"heteroscedasticity-robust (HC3) standard errors {robust} of the {terms} "
        f"term{'' if terms == 1 else 's'} {'has' if robust == 1 else 'have'} p < {ALPHA:g} "
        f"(with the usual ones: {usual}); the table has both."
    )


def influence(c: ResidualChecks) -> str:
    rows = ", ".join(
        f"row {r.row} (D = {num(r.cooks_distance)}, leverage {num(r.leverage)})" for r in c.top
    )
    threshold = f"4/n = {num(c.cooks_threshold)}"
    if c.n_influential == 0:
        return (
            f"Influential points: no row has a Cook's distance above {threshold} (largest: {rows})."
        )
    shown = "; the largest: " if c.n_influential > len(c.top) else ": "
    them = "it" if c.n_influential == 1 else "them"
    text = (
        f"Influential points: {_rows(c.n_influential, c.n)} a Cook's distance above "
        f"{threshold}{shown}{rows} (data rows counted from 1). Refit without {them} to see "
        "whether the conclusions change."
    )
    if c.n_cooks_above_1:
        text += (
            f" {c.n_cooks_above_1} of them {'exceeds' if c.n_cooks_above_1 == 1 else 'exceed'} "
            "D = 1, the usual mark of a row that on its own moves the fit."
        )
    return text
