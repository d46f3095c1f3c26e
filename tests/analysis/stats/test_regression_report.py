"""The regression section's words: every sentence carries the numbers it rests on, the
reference levels are named, and each check says what it found (issue 11)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from statbot.analysis.stats.regression_report import logit_report, ols_report

from .conftest import LOGIT_CASES, OLS_CASES

P_VALUE = re.compile(r"p (<|=) \d")


def _all_reports() -> list:
    reports = [ols_report(c.frame, c.target, c.features) for c in OLS_CASES.values()]
    reports += [logit_report(c.frame, c.target, c.features) for c in LOGIT_CASES.values()]
    return reports


def test_no_significance_wording_without_its_p_value() -> None:
    for report in _all_reports():
        for sentence in report.sentences():
            if "significant" in sentence:
                assert P_VALUE.search(sentence), sentence


def test_each_term_sentence_cites_its_own_numbers() -> None:
    case = OLS_CASES["diabetes"]
    report = ols_report(case.frame, case.target, case.features)
    r = report.result
    sentences = report.sentences()
    bmi = next(s for s in sentences if s.startswith("bmi:"))
    i = r.terms.index("bmi")
    assert f"{r.coefficients[i]:.3g} more target" in bmi
    assert f"95% CI {r.ci_low[i]:.3g} to {r.ci_high[i]:.3g}" in bmi
    assert f"standardised β = {report.std_betas[i]:.3g}" in bmi
    assert f"t = {r.t_values[i]:.3g}, p < 0.001" in bmi and "; statistically significant" in bmi
    age = next(s for s in sentences if s.startswith("age:"))
    assert "not statistically significant" in age and f"p = {r.p_values[1]:.2f}" in age


def test_reference_levels_are_named_in_the_table_and_the_text() -> None:
    case = OLS_CASES["fair"]
    report = ols_report(case.frame, case.target, case.features)
    assert report.references == {"occupation": "occ1"}
    table = report.to_frame().set_index("term")
    assert table.loc["occupation[T.occ4]", "reference"] == "occ1"
    assert table.loc["age", "reference"] == ""
    text = " ".join(report.sentences())
    assert (
        "compared with a reference level (the first in alphabetical order): occupation "
        "with occ1" in text
    )
    assert "occupation = occ4: affairs is" in text and "than at the reference level occ1" in text
    assert report.to_dict()["term_references"]["occupation[T.occ2]"] == "occ1"


def test_collinearity_warning_in_plain_words_when_vif_is_high() -> None:
    case = OLS_CASES["longley"]
    text = " ".join(ols_report(case.frame, case.target, case.features).sentences())
    assert "Warning: strong collinearity" in text and "GNP (VIF 1789), YEAR (VIF 759)" in text
    assert "Consider dropping or combining" in text
    calm = LOGIT_CASES["spector"]
    text = " ".join(logit_report(calm.frame, calm.target, calm.features).sentences())
    assert "every variance inflation factor is at most 5 (largest 1.19, TUCE)" in text


def _linear(n: int, noise: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    x = rng.uniform(1, 10, n)
    return pd.DataFrame({"x": x, "z": rng.normal(size=n), "y": 2 + 0.5 * x + noise})


def test_heteroscedasticity_and_normality_are_said_with_their_tests() -> None:
    rng = np.random.default_rng(11)
    n = 400
    x = rng.uniform(1, 10, n)
    spread = pd.DataFrame({"x": x, "y": 1 + x + rng.normal(size=n) * x})  # sd grows with x
    hetero = ols_report(spread, "y", ["x"])
    text = " ".join(hetero.sentences())
    assert (
        "the spread of the residuals changes with the predictors (heteroscedasticity; "
        "Breusch-Pagan LM = " in text
    )
    robust = sum(p < 0.05 for p in hetero.robust_p_values()[1:])
    usual = sum(p < 0.05 for p in hetero.result.p_values[1:])
    assert robust == 1
    assert (
        "With heteroscedasticity-robust (HC3) standard errors 1 of the 1 term "
        f"has p < 0.05 (with the usual ones: {usual}); the table has both." in text
    )
    assert "robust_se_hc3" in hetero.to_frame().columns
    calm = _linear(n, rng.normal(size=n), rng)
    report = ols_report(calm, "y", ["x", "z"])
    text = " ".join(report.sentences())
    bp = report.checks.breusch_pagan
    assert (
        f"no evidence that the spread of the residuals changes with the predictors "
        f"(Breusch-Pagan LM = {bp.statistic:.3g}, df = 2, p = " in text
    )
    assert "Normality of residuals: no evidence against it (Shapiro-Wilk W = " in text
    skewed = _linear(40, rng.exponential(size=40) ** 2, rng)
    text = " ".join(ols_report(skewed, "y", ["x"]).sentences())
    assert "they depart from a normal distribution (Shapiro-Wilk W = " in text
    assert "with only n = 40 rows, treat the p-values and CIs with caution" in text


def test_an_influential_row_is_named_by_its_row_in_the_file() -> None:
    rng = np.random.default_rng(5)
    frame = _linear(60, rng.normal(scale=0.5, size=60), rng)
    frame.loc[3, "x"] = np.nan  # left out: row numbers still count the file's rows
    frame.loc[40, ["x", "y"]] = [30.0, -20.0]  # far out and off the line
    report = ols_report(frame, "y", ["x"])
    top = report.checks.top[0]
    assert top.row == 41 and top.cooks_distance > 1
    text = report.sentences()[-1]
    assert text.startswith("Influential points: ")
    assert f"row 41 (D = {top.cooks_distance:.3g}, leverage {top.leverage:.3g})" in text
    assert "exceeds D = 1" in text or "exceed D = 1" in text
    rows = report.checks.to_frame()
    assert 4 not in rows["row"].tolist() and len(rows) == 59


def test_no_influential_row_says_the_largest() -> None:
    frame = pd.DataFrame({"x": np.arange(30.0), "y": 2 * np.arange(30.0) + np.tile([1, -1], 15)})
    checks = ols_report(frame, "y", ["x"]).checks
    assert checks.n_influential == 0
    assert (
        "Influential points: no row has a Cook's distance above 4/n = 0.133 (largest: row "
        in ols_report(frame, "y", ["x"]).sentences()[-1]
    )


def test_separation_gets_no_significance_sentences() -> None:
    frame = pd.DataFrame(
        {
            "passed": [0, 0, 0, 0, 0, 1, 1, 1, 1, 1],
            "hours": [1.0, 2, 2.5, 3, 4, 5, 6, 6.5, 7, 9],
            "noise": [3.0, 1, 4, 1, 5, 9, 2, 6, 5, 3],
        }
    )
    report = logit_report(frame, "passed", ["hours", "noise"])
    assert not any("significant" in s for s in report.sentences()[1:])
    assert any("separation" in w for w in report.warnings())


def test_logit_sentences_give_odds_ratios_with_cis() -> None:
    case = LOGIT_CASES["spector"]
    report = logit_report(case.frame, case.target, case.features)
    psi = next(s for s in report.sentences() if s.startswith("PSI:"))
    row = report.to_frame().set_index("term").loc["PSI"]
    assert f"multiplies the odds of GRADE = 1 by {row['odds_ratio']:.3g}" in psi
    assert f"95% CI {row['odds_ratio_ci_low']:.3g} to {row['odds_ratio_ci_high']:.3g}" in psi
    assert report.result.event == "1"


@pytest.mark.parametrize("count", [1, 13])
def test_many_terms_are_summarised(count: int) -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.normal(size=(80, count)), columns=[f"x{i}" for i in range(count)])
    frame["y"] = frame.sum(axis=1) + rng.normal(size=80)
    sentences = ols_report(frame, "y", [f"x{i}" for i in range(count)]).sentences()
    more = [s for s in sentences if s.startswith("…")]
    assert more == ([] if count == 1 else ["… 2 more terms in the table."])
    assert not any(s.startswith("Collinearity") for s in sentences) or count > 1
