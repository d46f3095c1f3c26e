"""``statbot analyze SUBCOMMAND FILE [options] [--json]``: every analysis the chat offers,
without a chat (issue #3). ``--json`` prints ONE JSON object with full float precision
(``json.dumps`` of Python floats: shortest round-trip repr, never rounded; NaN/inf → null).
Without it, a human-readable table. Bad input exits with code 2 and one clear line on stderr.

Layout, so commands can be added with a surgical edit:
1. shared helpers (``_load``, ``_emit``, ``_fail``, ``_user_errors``, ``_split``, ``_table``);
2. statistics commands (describe, correlate, test, ols, logit, anova);
3. the marked section at the end for the machine-learning commands (train, predict).
pandas/scipy/statsmodels are imported inside the commands only (``statbot --help`` stays light).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from statbot.cli import app

if TYPE_CHECKING:
    import pandas as pd

analyze_app = typer.Typer(
    name="analyze",
    help="Run an analysis on a data file and print the result (--json: machine-readable).",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(analyze_app, name="analyze")

FileArg = Annotated[
    Path, typer.Argument(help="CSV/TSV/TXT, Excel, Parquet or JSON file.", show_default=False)
]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print one JSON object with full float precision.")
]


# ---------------------------------------------------------------------------------------------
# 1. Shared helpers (reused by train/predict).
# ---------------------------------------------------------------------------------------------


def _fail(message: str) -> NoReturn:
    """One line on stderr, exit code 2, no traceback."""
    typer.echo(f"statbot analyze: {message}", err=True)
    raise typer.Exit(2)


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn statbot errors (DataError, ModelError, ...) into ``_fail(user_message)``."""
    from statbot.errors import StatbotError

    try:
        yield
    except StatbotError as exc:
        _fail(exc.user_message)


def _load(path: Path) -> pd.DataFrame:
    """Load ``path`` with the configured data limits; load warnings go to stderr."""
    from statbot.analysis.io import load_path
    from statbot.analysis.limits import DataLimits
    from statbot.config import load_settings
    from statbot.errors import ConfigError

    if not path.exists():
        _fail(f"no such file: {path}")
    try:
        limits = DataLimits.from_settings(load_settings())
    except ConfigError as exc:
        _fail(f"invalid setting {exc}")
    with _user_errors():
        loaded = load_path(path, limits)
    for warning in loaded.warnings:
        typer.echo(f"warning: {warning}", err=True)
    return loaded.frame


def _jsonable(value: Any) -> Any:
    """Python/numpy scalars and containers → JSON types; non-finite floats → None."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)
    if hasattr(value, "item"):  # numpy scalar
        return _jsonable(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return str(value)


def _emit(result: dict[str, Any], as_json: bool, text: str | None = None) -> None:
    """Print ``result`` as one JSON object (``as_json``) or ``text`` (default: key/value lines)."""
    if as_json:
        typer.echo(json.dumps(_jsonable(result), allow_nan=False, ensure_ascii=False))
        return
    if text is None:
        text = "\n".join(f"{k}: {_cell(v)}" for k, v in result.items())
    typer.echo(text)


def _split(value: str) -> list[str]:
    """``"a, b,c"`` → ``["a", "b", "c"]``."""
    return [part.strip() for part in value.split(",") if part.strip()]


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:.6g}"
    if value is None:
        return "n/a"
    return str(value)


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain aligned text table; first column left-aligned, the rest right-aligned."""
    cells = [[str(h) for h in headers], *[[_cell(v) for v in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for r in cells:
        parts = [
            r[0].ljust(widths[0]),
            *(c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)),
        ]
        lines.append("  ".join(parts).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# 2. Statistics commands.
# ---------------------------------------------------------------------------------------------


@analyze_app.command()
def describe(
    file: FileArg,
    columns: Annotated[
        str | None, typer.Option(help="Comma-separated columns (default: all).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Descriptive statistics per column: count, mean, std, min, quartiles, max, missing."""
    from statbot.analysis.describe import describe as run

    frame = _load(file)
    with _user_errors():
        result = run(frame, _split(columns) if columns else None)
    data = result.to_dict()
    numeric = [c for c in result.columns if c.kind == "numeric"]
    others = [c for c in result.columns if c.kind != "numeric"]
    keys = ["count", "mean", "std", "min", "25%", "50%", "75%", "max", "missing"]
    blocks = [f"{result.rows} rows, {len(result.columns)} columns"]
    if numeric:
        blocks.append(
            _table(["column", *keys], [[c.name, *(data[c.name][k] for k in keys)] for c in numeric])
        )
    for col in others:
        d = data[col.name]
        detail = {k: v for k, v in d.items() if k not in ("kind", "count", "missing")}
        blocks.append(
            f"{col.name} ({col.kind}): count {col.count}, missing {col.missing}, "
            + ", ".join(f"{k} {v}" for k, v in detail.items())
        )
    _emit(data, as_json, "\n\n".join(blocks))


@analyze_app.command()
def correlate(
    file: FileArg,
    method: Annotated[str, typer.Option(help="pearson, spearman or kendall.")] = "pearson",
    columns: Annotated[
        str | None, typer.Option(help="Comma-separated numeric columns (default: all).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Correlation matrix with p-values and pairwise-complete n."""
    from statbot.analysis.describe import correlate as run

    frame = _load(file)
    with _user_errors():
        result = run(frame, method.lower(), _split(columns) if columns else None)  # type: ignore[arg-type]
    cols = result.columns
    text = "\n\n".join(
        [
            f"{result.method} correlation (r)",
            _table(["", *cols], [[a, *result.r[i]] for i, a in enumerate(cols)]),
            "p-values",
            _table(["", *cols], [[a, *result.p_value[i]] for i, a in enumerate(cols)]),
            "n (pairwise complete)",
            _table(["", *cols], [[a, *result.n[i]] for i, a in enumerate(cols)]),
        ]
    )
    _emit(result.to_dict(), as_json, text)


@analyze_app.command("test")
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
    as_json: JsonOpt = False,
) -> None:
    """Pick and run the right hypothesis test for the column types, with assumption checks."""
    from statbot.analysis.tests import choose_and_run

    frame = _load(file)
    with _user_errors():
        result = choose_and_run(frame, a, b, paired=paired, mu=mu)
    lines = [
        result.sentence,
        "",
        f"test: {result.test}",
        f"{result.statistic_name} = {_cell(result.statistic)}, p = {_cell(result.p_value)}, "
        f"n = {result.n}",
    ]
    if result.effect:
        e = result.effect
        lines.append(
            f"{e.name} = {_cell(e.value)} (95% CI {_cell(e.ci_low)} to {_cell(e.ci_high)})"
        )
    for check in result.assumptions:
        verdict = "ok" if check.passed else "FAILED"
        lines.append(f"check: {check.name} [{check.test}]: {verdict} — {check.detail}")
    if result.fallback:
        lines.append(f"fallback: {result.fallback}")
    _emit(result.to_dict(), as_json, "\n".join(lines))


def _coef_text(result_dict: dict[str, Any], stat: str, extra: list[str]) -> str:
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
    table = _table(["term", "coef", "std err", label, "p", "ci low", "ci high"], rows)
    notes = [f"warning: {w}" for w in result_dict.get("warnings", [])]
    return "\n".join([table, "", *extra, *notes])


@analyze_app.command()
def ols(
    file: FileArg,
    target: Annotated[str, typer.Option(help="Numeric column to explain.")],
    features: Annotated[str, typer.Option(help="Comma-separated predictor columns.")],
    degree: Annotated[int, typer.Option(help="Polynomial degree in a single feature.")] = 1,
    as_json: JsonOpt = False,
) -> None:
    """Linear regression (QR-based); --degree N fits a polynomial reported in original powers."""
    from statbot.analysis.regression import ols as run_ols
    from statbot.analysis.regression import polynomial

    names = _split(features)
    if degree != 1 and len(names) != 1:
        _fail("--degree needs exactly one feature")
    frame = _load(file)
    with _user_errors():
        result = (
            polynomial(frame, target, names[0], degree)
            if degree != 1
            else run_ols(frame, target, names)
        )
    d = result.to_dict()
    extra = [
        f"n = {result.n}, R² = {_cell(result.r_squared)}, "
        f"adjusted R² = {_cell(result.adj_r_squared)}",
        f"residual std error = {_cell(result.residual_std_error)} on {result.df_resid} df",
        f"F = {_cell(result.f_statistic)} on {result.df_model} and {result.df_resid} df, "
        f"p = {_cell(result.f_p_value)}",
        f"condition number = {_cell(result.condition_number)}",
    ]
    _emit(d, as_json, _coef_text(d, "t_values", extra))


@analyze_app.command()
def logit(
    file: FileArg,
    target: Annotated[str, typer.Option(help="Column with exactly two values.")],
    features: Annotated[str, typer.Option(help="Comma-separated predictor columns.")],
    as_json: JsonOpt = False,
) -> None:
    """Logistic regression: coefficients, odds ratios, pseudo-R², separation check."""
    from statbot.analysis.logistic import logit as run

    frame = _load(file)
    with _user_errors():
        result = run(frame, target, _split(features))
    d = result.to_dict()
    extra = [
        f"modelled outcome: {target} = {result.event}; n = {result.n}",
        f"McFadden pseudo-R² = {_cell(result.pseudo_r_squared)}, "
        f"log-likelihood = {_cell(result.log_likelihood)}, "
        f"LR test p = {_cell(result.lr_p_value)}",
        "odds ratios: "
        + ", ".join(
            f"{t} {_cell(v)}" for t, v in zip(result.terms, result.odds_ratios, strict=True)
        ),
    ]
    _emit(d, as_json, _coef_text(d, "z_values", extra))


@analyze_app.command()
def anova(
    file: FileArg,
    group: Annotated[str, typer.Option(help="Column defining the groups.")],
    value: Annotated[str, typer.Option(help="Numeric column to compare.")],
    as_json: JsonOpt = False,
) -> None:
    """One-way ANOVA (sums of squares computed without cancellation; NIST-validated)."""
    from statbot.analysis.anova import anova_oneway

    frame = _load(file)
    with _user_errors():
        result = anova_oneway(frame, group, value)
    table = _table(
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
    groups = _table(
        ["group", "n", "mean", "std"],
        [[g, s["n"], s["mean"], s["std"]] for g, s in result.groups.items()],
    )
    fit = f"R² = {_cell(result.r_squared)}, residual std = {_cell(result.residual_std_error)}"
    text = f"{table}\n\n{fit}\n\n{groups}"
    _emit(result.to_dict(), as_json, text)


# ---------------------------------------------------------------------------------------------
# 3. Machine-learning commands (train, predict) go below this line; reuse _load/_emit/_fail.
# ---------------------------------------------------------------------------------------------
