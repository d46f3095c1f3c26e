"""``statbot analyze SUBCOMMAND FILE [options] [--json]``: every analysis the chat offers,
without a chat (issue #3). ``--json`` prints ONE JSON object with full float precision
(``json.dumps`` of Python floats: shortest round-trip repr, never rounded; NaN/inf → null).
Without it, a human-readable table. Bad input exits with code 2 and one clear line on stderr.

Layout, so commands can be added with a surgical edit:
1. shared helpers (``load``, ``emit``, ``fail``, ``user_errors``, ``split``, ``table``);
2. statistics commands (describe, correlate, test, ols, logit, anova);
3. the marked section at the end for the machine-learning commands (train, predict).
pandas/scipy/statsmodels are imported inside the commands only (``statbot --help`` stays light).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Any

import typer

from statbot.cli.common import (
    FileArg,
    JsonOpt,
    cell,
    emit,
    fail,
    load,
    split,
    text_table,
    user_errors,
)

if TYPE_CHECKING:
    from statbot.analysis.stats.regression_report import RegressionReport

commands = typer.Typer(
    name="analyze",
    help="Run an analysis on a data file and print the result (--json: machine-readable).",
    no_args_is_help=True,
    add_completion=False,
)


@commands.command()
def describe(
    file: FileArg,
    columns: Annotated[
        str | None, typer.Option(help="Comma-separated columns (default: all).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Descriptive statistics per column: count, mean, std, min, quartiles, max, missing."""
    from statbot.analysis.stats.describe import describe as run

    frame = load(file)
    with user_errors():
        result = run(frame, split(columns) if columns else None)
    data = result.to_dict()
    numeric = [c for c in result.columns if c.kind == "numeric"]
    others = [c for c in result.columns if c.kind != "numeric"]
    keys = ["count", "mean", "std", "min", "25%", "50%", "75%", "max", "missing"]
    blocks = [f"{result.rows} rows, {len(result.columns)} columns"]
    if numeric:
        blocks.append(
            text_table(
                ["column", *keys], [[c.name, *(data[c.name][k] for k in keys)] for c in numeric]
            )
        )
    for col in others:
        d = data[col.name]
        detail = {k: v for k, v in d.items() if k not in ("kind", "count", "missing")}
        blocks.append(
            f"{col.name} ({col.kind}): count {col.count}, missing {col.missing}, "
            + ", ".join(f"{k} {v}" for k, v in detail.items())
        )
    emit(data, as_json, "\n\n".join(blocks))


@commands.command()
def correlate(
    file: FileArg,
    method: Annotated[
        str, typer.Option(help="pearson, spearman, kendall, or all (the three side by side).")
    ] = "pearson",
    columns: Annotated[
        str | None, typer.Option(help="Comma-separated numeric columns (default: all).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Correlation matrix with p-values and pairwise-complete n; the columns left out, and why."""
    from statbot.analysis.stats.describe import correlate as run

    frame = load(file)
    if method.lower() == "all":
        from statbot.analysis.stats.correlations import correlate_all
        from statbot.analysis.stats.texts import correlation_blocks, plain

        with user_errors():
            table = correlate_all(frame, split(columns) if columns else None)
        blocks = correlation_blocks(table, top=len(table.pairs))
        emit({**table.to_dict(), "report": [b.text for b in blocks]}, as_json, plain(blocks))
        return
    with user_errors():
        result = run(frame, method.lower(), split(columns) if columns else None)  # type: ignore[arg-type]
    cols = result.columns
    text = "\n\n".join(
        [
            f"{result.method} correlation (r)",
            text_table(["", *cols], [[a, *result.r[i]] for i, a in enumerate(cols)]),
            "p-values",
            text_table(["", *cols], [[a, *result.p_value[i]] for i, a in enumerate(cols)]),
            "n (pairwise complete)",
            text_table(["", *cols], [[a, *result.n[i]] for i, a in enumerate(cols)]),
            *(f"left out: {c} ({why})" for c, why in result.left_out.items()),
        ]
    )
    emit(result.to_dict(), as_json, text)


@commands.command("test")
def test_(
    file: FileArg,
    *,
    a: Annotated[str, typer.Option("--a", help="First column.")],
    b: Annotated[
        str | None, typer.Option("--b", help="Second column (a group or another variable).")
    ] = None,
    paired: Annotated[
        bool, typer.Option("--paired", help="Treat --a and --b as paired measurements.")
    ] = False,
    mu: Annotated[float, typer.Option(help="Reference value for a one-sample test.")] = 0.0,
    method: Annotated[
        str,
        typer.Option(
            help="auto (from the checks), means (t-test / ANOVA) or ranks (Wilcoxon, "
            "Mann-Whitney, Kruskal-Wallis)."
        ),
    ] = "auto",
    as_json: JsonOpt = False,
) -> None:
    """Pick and run the right hypothesis test for the column types, with assumption checks:
    the group table first, then the test, effect sizes and post-hoc pairs (the chat's text)."""
    from statbot.analysis.stats.tests import choose_and_run
    from statbot.analysis.stats.texts import hypothesis_blocks, plain

    frame = load(file)
    with user_errors():
        result = choose_and_run(frame, a, b, paired=paired, mu=mu, method=method.lower())
    blocks = hypothesis_blocks(result)
    emit({**result.to_dict(), "report": [b.text for b in blocks]}, as_json, plain(blocks))


def _coef_text(result_dict: dict[str, Any], stat: str, extra: list[str]) -> str:
    """The plain table of a polynomial fit (no regression section: its powers overlap)."""
    coefs = result_dict["coefficients"]
    rows = [
        [
            t,
            coefs[t],
            result_dict["std_errors"][t],
            result_dict[stat][t],
            result_dict["p_values"][t],
            result_dict["ci_low"][t],
            result_dict["ci_high"][t],
        ]
        for t in coefs
    ]
    label = stat.split("_", maxsplit=1)[0]
    table = text_table(["term", "coef", "std err", label, "p", "ci low", "ci high"], rows)
    notes = [f"warning: {w}" for w in result_dict.get("warnings", [])]
    return "\n".join([table, "", *extra, *notes])


def _report_text(report: RegressionReport) -> str:
    """The regression section as text: the coefficient table, the fit's numbers, then the
    report's sentences (the same sentences the chat sends) and its warnings."""
    from statbot.analysis.stats.regression import OLSResult

    frame = report.to_frame()
    headers = {
        "coefficient": "coef",
        "std_error": "std err",
        "p_value": "p",
        "ci_low": "ci low",
        "ci_high": "ci high",
        "std_beta": "std beta",
        "odds_ratio": "odds ratio",
        "odds_ratio_ci_low": "OR low",
        "odds_ratio_ci_high": "OR high",
        "robust_se_hc3": "HC3 se",
        "robust_p_hc3": "HC3 p",
    }
    rows = [
        ["" if isinstance(v, float) and math.isnan(v) else v for v in row]
        for row in frame.itertuples(index=False)
    ]
    table = text_table([headers.get(str(c), str(c)) for c in frame.columns], rows)
    r = report.result
    if isinstance(r, OLSResult):
        fit = [
            f"n = {r.n}, R² = {cell(r.r_squared)}, adjusted R² = {cell(r.adj_r_squared)}",
            f"residual std error = {cell(r.residual_std_error)} on {r.df_resid} df",
            f"F = {cell(r.f_statistic)} on {r.df_model} and {r.df_resid} df, "
            f"p = {cell(r.f_p_value)}",
            f"condition number = {cell(r.condition_number)}",
        ]
    else:
        fit = [
            f"modelled outcome: {report.target} = {r.event}; n = {r.n}",
            f"McFadden pseudo-R² = {cell(r.pseudo_r_squared)}, "
            f"log-likelihood = {cell(r.log_likelihood)} (null {cell(r.ll_null)}), "
            f"LR test p = {cell(r.lr_p_value)}",
        ]
    notes = [f"warning: {w}" for w in report.warnings()]
    return "\n".join([table, "", *fit, "", *report.sentences(), *notes])


@commands.command()
def ols(
    file: FileArg,
    target: Annotated[str, typer.Option(help="Numeric column to explain.")],
    features: Annotated[str, typer.Option(help="Comma-separated predictor columns.")],
    degree: Annotated[int, typer.Option(help="Polynomial degree in a single feature.")] = 1,
    as_json: JsonOpt = False,
) -> None:
    """Linear regression (QR-based) with standardised β, VIF and residual checks; --degree N
    fits a polynomial reported in original powers."""
    from statbot.analysis.stats.regression import polynomial
    from statbot.analysis.stats.regression_report import ols_report

    names = split(features)
    if degree != 1 and len(names) != 1:
        fail("--degree needs exactly one feature")
    frame = load(file)
    if degree == 1:
        with user_errors():
            report = ols_report(frame, target, names)
        emit(report.to_dict(), as_json, _report_text(report))
        return
    with user_errors():
        result = polynomial(frame, target, names[0], degree)
    d = result.to_dict()
    extra = [
        f"n = {result.n}, R² = {cell(result.r_squared)}, "
        f"adjusted R² = {cell(result.adj_r_squared)}",
        f"residual std error = {cell(result.residual_std_error)} on {result.df_resid} df",
        f"F = {cell(result.f_statistic)} on {result.df_model} and {result.df_resid} df, "
        f"p = {cell(result.f_p_value)}",
        f"condition number = {cell(result.condition_number)}",
    ]
    emit(d, as_json, _coef_text(d, "t_values", extra))


@commands.command()
def logit(
    file: FileArg,
    target: Annotated[str, typer.Option(help="Column with exactly two values.")],
    features: Annotated[str, typer.Option(help="Comma-separated predictor columns.")],
    as_json: JsonOpt = False,
) -> None:
    """Logistic regression: coefficients, odds ratios with CIs, VIF, separation check."""
    from statbot.analysis.stats.regression_report import logit_report

    frame = load(file)
    with user_errors():
        report = logit_report(frame, target, split(features))
    emit(report.to_dict(), as_json, _report_text(report))


@commands.command()
def anova(
    file: FileArg,
    group: Annotated[str, typer.Option(help="Column defining the groups.")],
    value: Annotated[str, typer.Option(help="Numeric column to compare.")],
    as_json: JsonOpt = False,
) -> None:
    """One-way ANOVA (sums of squares computed without cancellation; NIST-validated)."""
    from statbot.analysis.stats.anova import anova_oneway

    frame = load(file)
    with user_errors():
        result = anova_oneway(frame, group, value)
    table = text_table(
        ["source", "df", "sum of squares", "mean square", "F", "p"],
        [
            [
                "between groups",
                result.df_between,
                result.ss_between,
                result.ms_between,
                result.f_statistic,
                result.p_value,
            ],
            ["within groups", result.df_within, result.ss_within, result.ms_within, None, None],
        ],
    )
    groups = text_table(
        ["group", "n", "mean", "std"],
        [[g, s["n"], s["mean"], s["std"]] for g, s in result.groups.items()],
    )
    fit = f"R² = {cell(result.r_squared)}, residual std = {cell(result.residual_std_error)}"
    text = f"{table}\n\n{fit}\n\n{groups}"
    emit(result.to_dict(), as_json, text)


# ---------------------------------------------------------------------------------------------
# 3. Machine-learning commands (train, predict) go below this line; reuse load/emit/fail.
# ---------------------------------------------------------------------------------------------
