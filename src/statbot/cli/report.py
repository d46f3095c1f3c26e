"""``statbot analyze ... --html FILE``: the command's result as the same self-contained HTML
report the chat sends (issue 11).

The ``statbot analyze`` line a chat result shows has the options of that chat analysis
(describe ``--columns``; correlate ``--columns --method all``; test ``--a --b --paired --mu
--method``; ols/logit ``--target --features``); run with ``--html``, it builds the chat's own
analysis (:mod:`statbot.workflows.results`, ``compare_results``, ``regression``) on the same
data, so the file holds the chat's text, tables and charts. ``train`` gives the chat's training
report: its sentences, the card's tables and the same charts (drawn by
:mod:`statbot.analysis.report.train_charts`, as the training job draws them). Options the chat
does not offer (one correlation method, a polynomial, anova, predict) give a report of what the
command printed: its text, and its JSON result as tables, without charts — said on the page
rather than left out silently. ``--header-row`` and ``--type`` are kept in the report's line.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from statbot.cli.common import FileOptions, split

if TYPE_CHECKING:
    import pandas as pd

    from statbot.analysis.report.html import Report, ReportTable
    from statbot.workflows.results import Analysis

_NO_CHARTS = "This report shows what the command printed; charts come with the chat's analyses."


def _chat_analysis(options: FileOptions, frame: pd.DataFrame) -> Analysis | None:
    """The chat's analysis for a command whose options the chat offers, else None."""
    from statbot.workflows import results as R

    p, source = options.params, Path(options.source).name
    columns = split(p["columns"]) if p.get("columns") else None
    if options.command == "describe":
        return R.run_describe(frame, columns or [str(c) for c in frame.columns], source)
    if options.command == "correlate" and str(p.get("method", "")).lower() == "all":
        from statbot.workflows.compare_results import run_correlation

        if columns is None:
            from statbot.analysis.frames import column_kind

            columns = [str(c) for c in frame.columns if column_kind(frame[c]) == "numeric"]
        return run_correlation(frame, columns, source)
    if options.command == "test_":
        from statbot.workflows.compare_results import run_test

        keys = ("a", "b", "paired", "mu", "method")
        return run_test(frame, {k: p.get(k) for k in keys}, source)
    if options.command in ("ols", "logit") and p.get("degree", 1) == 1:
        from statbot.workflows.regression import regression_kind, run_regression

        if regression_kind(frame, p["target"]) == options.command:
            return run_regression(frame, p["target"], split(p["features"]), source)
    return None


def _tables(result: dict[str, Any]) -> list[ReportTable]:
    """A command's JSON result as tables: a card as the chat's training tables; lists of
    objects and objects of objects as tables; the plain values in one table."""
    import pandas as pd

    from statbot.analysis.report.html import ReportTable
    from statbot.workflows.html_report import card_tables

    if isinstance(result.get("card"), dict):
        return card_tables(result["card"])
    tables: list[ReportTable] = []
    scalars: dict[str, Any] = {}
    for key, value in result.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            tables.append(ReportTable(key, pd.DataFrame(value)))
        elif isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            frame = pd.DataFrame.from_dict(value, orient="index").reset_index(names="")
            tables.append(ReportTable(key, frame.map(_flat)))
        elif isinstance(value, dict) and value:
            pairs = pd.DataFrame({"": list(value), key: list(value.values())})
            tables.append(ReportTable(key, pairs.map(_flat)))
        elif not isinstance(value, list | dict):
            scalars[key] = value
    if scalars:
        plain = pd.DataFrame({"": list(scalars), "value": list(scalars.values())})
        tables.insert(0, ReportTable("result", plain))
    return tables


def _flat(value: Any) -> Any:
    """A cell: nested values as their JSON text, scalars as they are."""
    import json

    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value


def _command_line(options: FileOptions) -> str:
    import shlex

    name = options.command.rstrip("_")
    parts = ["statbot", "analyze", name, shlex.quote(Path(options.source).name)]
    for key, value in options.params.items():
        if key in ("file", "as_json") or value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        parts += [flag] if value is True else [flag, shlex.quote(str(value))]
    parts += [shlex.quote(a) for a in _reading_args(options)]
    return " ".join([*parts, "--json"])


def _reading_args(options: FileOptions) -> list[str]:
    """The options that read the file: the line must read it the same way."""
    args = [] if options.header_row is None else ["--header-row", str(options.header_row)]
    for given in options.types:
        args += ["--type", given]
    return args


def build_report(options: FileOptions) -> Report:
    """The report of the command that just ran (``options`` as :func:`load` and ``emit`` left
    them)."""
    from statbot.analysis.report.html import Report
    from statbot.workflows.html_report import analysis_report

    loaded, emitted = options.loaded, options.emitted
    notes = list(loaded.conversions) if loaded is not None else []
    if loaded is not None and loaded.header_row and loaded.header_row > 1:
        notes.append(
            f"The column names are in row {loaded.header_row}; rows above it were skipped."
        )
    created = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    source = Path(options.source).name
    analysis = _chat_analysis(options, loaded.frame) if loaded is not None else None
    if analysis is not None:
        report = analysis_report(analysis, source, notes=notes, created=created)
        if _reading_args(options):  # the line must read the file the same way
            import shlex

            line = analysis.analyze.removesuffix(" --json")
            args = " ".join(shlex.quote(a) for a in _reading_args(options))
            report = _replace(report, reproduce=f"{line} {args} --json")
        return report
    result, text = emitted if emitted is not None else ({}, "")
    if options.command == "train" and options.charts:
        from statbot.analysis.report.html import ReportChart

        return Report(  # the chat's training report: its sentences, tables and charts
            title=f"Model: {result.get('name', '')}",
            dataset=source,
            text="\n".join(str(line) for line in result.get("report") or []),
            tables=_tables(result),
            charts=[ReportChart(caption, png) for caption, png in options.charts],
            reproduce=_command_line(options),
            notes=notes,
            created=created,
        )
    return Report(
        title=f"statbot analyze {options.command.rstrip('_')}",
        dataset=source,
        text=text,
        tables=_tables(result),
        reproduce=_command_line(options),
        notes=[*notes, _NO_CHARTS],
        created=created,
        monospace=True,
    )


def _replace(report: Report, **changes: Any) -> Report:
    from dataclasses import replace

    return replace(report, **changes)


def write_report(options: FileOptions, path: Path) -> None:
    """Build the report and write it to ``path`` (temp name, then rename)."""
    from statbot.analysis.report.html import render_html

    page = render_html(build_report(options)).encode("utf-8")
    partial = path.with_name(path.name + ".part")
    try:
        partial.write_bytes(page)
        partial.replace(path)
    except OSError as exc:
        from statbot.errors import StatbotError

        raise StatbotError(
            f"html report: {exc}",
            user_message=f"could not write the report to {path} ({exc.strerror or exc}).",
        ) from exc
