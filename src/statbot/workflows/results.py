"""The analyses /stats and /explore run, as blocking functions (called through
``ctx.run_blocking``), and how their results become replies.

Every table goes out twice: a few lines for a phone, and the whole table as a full-precision,
spreadsheet-safe CSV document. Charts go out as images. Files are written under
``STATBOT_DATA_DIR/results/<user>/`` with names derived from the event id, so a replayed event
rewrites the same files instead of leaving new ones.
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from statbot.engine.replies import Reply
from statbot.engine.workflow import Context
from statbot.workflows.data import Loaded, services, write_result
from statbot.workflows.html_report import stamp
from statbot.workflows.report import fmt

if TYPE_CHECKING:
    from statbot.workflows.services import Services


@dataclass
class Table:
    stem: str
    caption: str
    frame: Any  # pandas.DataFrame


@dataclass
class Chart:
    stem: str
    caption: str
    png: bytes


@dataclass
class Analysis:
    """What one analysis produced, before it is written and sent."""

    text: str
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    analyze: str = ""
    summary: dict[str, Any] = field(default_factory=dict)


def analyze_line(subcommand: str, source: str, **options: str | bool) -> str:
    """The ``statbot analyze`` command that prints the same numbers (DESIGN.md "Chat");
    ``True`` is a flag (``--paired``)."""
    parts = ["statbot", "analyze", subcommand, shlex.quote(source)]
    for name, value in options.items():
        if value is True:
            parts.append(f"--{name}")
        elif value is not False:
            parts += [f"--{name}", shlex.quote(value)]
    return " ".join([*parts, "--json"])


def reading(line: str, dataset: Loaded) -> str:
    """``line`` (a ``statbot analyze`` command ending in ``--json``) with the options that read
    the file as ``dataset`` was read (a picked header row, type corrections): run as printed,
    it gets the chat's numbers."""
    args = " ".join(shlex.quote(a) for a in dataset.reading_args())
    if not args or not line:
        return line
    return f"{line.removesuffix(' --json')} {args} --json"


def p_text(p: Any) -> str:
    p = float(p)
    if math.isnan(p):
        return "p = —"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3g}"


# the analyses ---------------------------------------------------------------------------------
def run_describe(frame: Any, columns: list[str], source: str) -> Analysis:
    from statbot.analysis.report.charts import histogram_box
    from statbot.analysis.stats.describe import describe

    result = describe(frame, columns)
    lines = [f"{result.rows:,} rows."]
    for col in result.columns:
        s = col.stats
        missing = f", {col.missing:,} missing" if col.missing else ""
        if col.kind == "numeric":
            lines.append(
                f"`{col.name}`: n {col.count:,}, mean {fmt(s['mean'])}, sd {fmt(s['std'])}, "
                f"median {fmt(s['50%'])}, range {fmt(s['min'])} to {fmt(s['max'])}{missing}"
            )
        elif col.kind == "categorical":
            top = ", ".join(f"{k} ({v})" for k, v in list(s["top"].items())[:3])
            lines.append(
                f"`{col.name}`: n {col.count:,}, {s['unique']} levels, top: {top}{missing}"
            )
        else:
            lines.append(f"`{col.name}`: dates from {s['min']} to {s['max']}{missing}")
    charts = []
    numeric = [c.name for c in result.columns if c.kind == "numeric"]
    if len(columns) <= 3:
        charts = [
            Chart(f"hist-{i}", f"Distribution of {name}", histogram_box(frame[name], name))
            for i, name in enumerate(numeric)
        ]
    return Analysis(
        text="\n".join(lines),
        tables=[Table("describe", "Descriptive statistics (full precision)", result.to_frame())],
        charts=charts,
        analyze=analyze_line("describe", source, columns=",".join(columns)),
        summary={"analysis": "describe", "columns": columns},
    )


def compute(
    svc: Services,
    *,
    dataset: Loaded,
    analysis: str,
    params: dict[str, Any],
    out_dir: Path,
    prefix: str,
    created: str = "",
) -> tuple[list[Reply], dict[str, Any]]:
    """Read the dataset, run the analysis, write its files (blocking): the replies and a
    summary for the session's context."""
    from statbot.workflows.compare_results import run_correlation, run_test
    from statbot.workflows.data import read_frame

    frame = read_frame(svc, dataset.ref)
    source = dataset.name
    if analysis == "describe":
        result = run_describe(frame, params["columns"], source)
    elif analysis == "correlation":
        result = run_correlation(frame, params["columns"], source)
    elif analysis == "test":
        result = run_test(frame, params, source)
    else:
        from statbot.workflows.regression import run_regression

        result = run_regression(frame, params["target"], params["features"], source)
    result.analyze = reading(result.analyze, dataset)
    notes = dataset.notes
    return publish(result, out_dir, prefix, source, notes=notes, created=created), result.summary


# writing and sending ----------------------------------------------------------------------------
def publish(
    analysis: Analysis,
    out_dir: Path,
    prefix: str,
    dataset: str,
    *,
    notes: Sequence[str] = (),
    created: str = "",
) -> list[Reply]:
    """Write the tables (CSV), charts (PNG) and the HTML report atomically; the replies that
    send them. ``notes`` say how the data was read (for the report)."""
    from statbot.analysis.io import safe_csv_bytes
    from statbot.workflows.html_report import analysis_report, file_stem, report_reply

    out_dir.mkdir(parents=True, exist_ok=True)
    replies = [Reply.say(analysis.text)]
    stem = Path(dataset).stem or "data"
    for chart in analysis.charts:
        path = out_dir / f"{prefix}-{chart.stem}.png"
        write_result(path, chart.png)
        replies.append(Reply.image(str(path), chart.caption, file_name=f"{chart.stem}.png"))
    for table in analysis.tables:
        path = out_dir / f"{prefix}-{table.stem}.csv"
        write_result(path, safe_csv_bytes(table.frame))
        replies.append(Reply.document(str(path), f"{table.stem}-{stem}.csv", table.caption))
    report = analysis_report(analysis, dataset, notes=notes, created=created)
    kind = str(analysis.summary.get("analysis", ""))
    replies.append(
        report_reply(report, out_dir / f"{prefix}-report.html", file_stem(kind, dataset))
    )
    if analysis.analyze:
        replies.append(Reply.say(f"Reproduce with:\n`{analysis.analyze}`"))
    return replies


async def run_analysis(ctx: Context, analysis: str, params: dict[str, Any]) -> None:
    """Compute one /stats analysis off the event loop, send its replies, go on to 'more'."""
    from statbot.workflows.explain import explain_after
    from statbot.workflows.session_data import AnalysisData

    svc = services(ctx)
    dataset = ctx.typed(AnalysisData).loaded
    out_dir = svc.data_dir / "results" / str(ctx.session.user_id)
    prefix = f"{analysis}-{ctx.event.event_id}"
    replies, summary = await ctx.run_blocking(
        compute,
        svc,
        dataset=dataset,
        analysis=analysis,
        params=params,
        out_dir=out_dir,
        prefix=prefix,
        created=stamp(ctx.event.at),
    )
    ctx.reply(*replies)
    await explain_after(ctx, replies)  # "What does this mean?" (issue 13)
    ctx.memory["result"] = {**summary, "dataset": dataset.name}
    ctx.goto("more")
