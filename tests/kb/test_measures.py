"""The one table from the measures a result shows to the entries that explain them."""

from __future__ import annotations

from pathlib import Path

from statbot.kb.measures import RULES, entries_in

PLANNED = {
    line.strip()
    for line in (Path(__file__).parent / "planned_ids.txt").read_text().splitlines()
    if line.strip() and not line.startswith("#")
}


SHIPPED = {
    path.stem
    for path in (Path(__file__).parents[2] / "src" / "statbot" / "kb" / "entries").glob("*.md")
}


def test_every_rule_names_a_shipped_entry() -> None:
    assert PLANNED <= SHIPPED
    assert {entry_id for _, entry_id in RULES} <= SHIPPED


def test_each_model_is_explained_by_its_own_entry() -> None:
    assert entries_in("Best: extra trees, then gradient boosting") == [
        "extra-trees",
        "gradient-boosting",
    ]


def test_a_test_result_is_explained_by_its_test_p_value_effect_and_checks() -> None:
    text = (
        "Test: *Welch two-sample t-test* — t = 3.1, p = 0.003, n 60.\n"
        "Effect size Hedges' g = 0.8 (95% CI 0.3 to 1.3).\n"
        "Assumption normality (D'Agostino-Pearson): ok\n"
        "Assumption equal variances (Levene (median)): not met\n"
    )
    found = entries_in(text, limit=20)
    assert found[:2] == ["welch-t-test", "p-value"]
    assert {"cohens-d", "confidence-interval", "levene-test", "normality-assumption"} <= set(found)
    assert "pearson-correlation" not in found and "median" not in found


def test_column_names_and_the_reproduce_line_explain_nothing() -> None:
    text = "Coefficients:\n  `recall`: 1.2\n  `mean`: 3\nReproduce with:\n`statbot analyze ols x`"
    assert entries_in(text) == ["coefficient"]


def test_regression_and_model_reports() -> None:
    ols = "Linear regression (OLS) of *y*: n 100, R² = 0.5, adjusted R² = 0.49, F test p < 0.001."
    assert entries_in(ols)[:4] == [
        "linear-regression",
        "r-squared",
        "adjusted-r-squared",
        "f-test-regression",
    ]
    logit = "Logistic regression of *y* = 1: McFadden pseudo-R² = 0.2. Odds ratios (p):"
    assert entries_in(logit) == ["logistic-regression", "pseudo-r-squared", "odds-ratio", "p-value"]
    report = "Random forest: cross-validated f1_macro 0.95 ± 0.02; holdout accuracy 0.96, ROC AUC"
    assert entries_in(report) == [
        "random-forest",
        "cross-validation",
        "f1-score",
        "holdout",
        "accuracy",
        "roc-auc",
    ]
    assert entries_in("nothing measurable here") == []
