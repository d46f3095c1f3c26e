"""/stats' regression result as replies (issue 11): the sentences of
:class:`statbot.analysis.stats.regression_report.RegressionReport` — the same ones
``statbot analyze ols/logit`` prints — the residuals-vs-fitted and Q-Q charts, the coefficient
table (coefficient, SE, t or z, p, CI, standardised β, VIF, reference level; odds ratios for
logistic regression) and, for OLS, the per-row diagnostics as CSV documents."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from statbot.errors import DataError
from statbot.workflows.results import Analysis, Chart, Table, analyze_line

if TYPE_CHECKING:
    from statbot.analysis.stats.regression_report import RegressionReport

MAX_NOTES = 5


def regression_kind(frame: Any, target: str) -> str:
    """``ols`` for a numeric target, ``logit`` for one with exactly two values."""
    from statbot.analysis.frames import column_kind

    levels = frame[target].dropna().nunique()
    if levels == 2:
        return "logit"
    if column_kind(frame[target]) == "numeric":
        return "ols"
    raise DataError(
        f"{target} cannot be a regression target",
        user_message=(
            f"'{target}' has {levels} categor{'y' if levels == 1 else 'ies'}. Regression here "
            "needs a numeric target (linear regression) or one with exactly two values "
            "(logistic regression); /train fits classifiers for more categories."
        ),
    )


def _text(report: RegressionReport) -> str:
    fit, *rest = report.model_sentences()
    lines = [fit, "*Coefficients*", *rest]
    checks = report.check_sentences()
    if checks:
        lines += ["*Residual checks*", *checks]
    lines += [f"Note: {w}" for w in report.warnings()[:MAX_NOTES]]
    return "\n".join(lines)


def _charts(report: RegressionReport) -> list[Chart]:
    from statbot.analysis.report.residual_charts import qq_plot, residuals_fitted

    checks = report.checks
    if checks is None:
        return []
    position = {row: i for i, row in enumerate(checks.rows)}
    marked = [(position[t.row], f"row {t.row}") for t in checks.top if t.row in position]
    return [
        Chart(
            "residuals",
            "Residuals vs fitted (the most influential rows labelled)",
            residuals_fitted(checks.fitted, checks.residuals, marked),
        ),
        Chart(
            "qq", "Normal Q-Q of the standardised residuals", qq_plot(checks.standardised_residuals)
        ),
    ]


def run_regression(frame: Any, target: str, features: list[str], source: str) -> Analysis:
    from statbot.analysis.stats.regression_report import logit_report, ols_report

    kind = regression_kind(frame, target)
    report = (ols_report if kind == "ols" else logit_report)(frame, target, features)
    caption = "Coefficients: SE, t, p, 95% CI, standardised β, VIF, reference levels"
    if kind == "logit":
        caption = "Coefficients and odds ratios: SE, z, p, 95% CIs, standardised β, VIF"
    tables = [Table(kind, caption, report.to_frame())]
    if report.checks is not None:
        tables.append(
            Table(
                "rows",
                "Per row: fitted, residual, studentised residuals, leverage, Cook's distance",
                report.checks.to_frame(),
            )
        )
    return Analysis(
        text=_text(report),
        tables=tables,
        charts=_charts(report),
        analyze=analyze_line(kind, source, target=target, features=",".join(features)),
        summary={"analysis": "regression", "model": kind, "target": target},
    )
