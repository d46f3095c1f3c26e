"""/explore: data → overview (shape, columns and types, the first rows, missing values) → pick
columns → their distributions (histogram and box plot for numbers, top levels for categories).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from statbot.engine.events import EventKind
from statbot.engine.replies import Option, Reply
from statbot.engine.workflow import Context, State, Workflow
from statbot.workflows import data as D
from statbot.workflows import retype
from statbot.workflows import steps as M
from statbot.workflows.explain import explain_after
from statbot.workflows.header import HINT as HEADER_HINT
from statbot.workflows.html_report import stamp
from statbot.workflows.session_data import ExploreData

if TYPE_CHECKING:
    from statbot.workflows.services import Services

HEAD_ROWS = 5
CELL_CHARS = 10
LINE_CHARS = 44  # a phone shows about this many monospace characters
TOP_LEVELS = 8


# blocking helpers -------------------------------------------------------------------------------
def overview(svc: Services, ref: dict[str, Any]) -> str:
    from statbot.analysis.io.schema import infer_schema, render_schema
    from statbot.analysis.stats.describe import missing_report

    frame = D.read_frame(svc, ref)
    missing = missing_report(frame)
    gaps = [(c, m) for c, m in missing.missing_by_column.items() if m]
    if gaps:
        lines = [
            f"Missing values: {missing.rows - missing.complete_rows:,} of {missing.rows:,} rows "
            "have a gap."
        ]
        lines += [f"  {c}: {m:,} ({m / missing.rows:.0%})" for c, m in gaps[:15]]
        if len(gaps) > 15:
            lines.append(f"  … and {len(gaps) - 15} more columns")
        missing_text = "\n".join(lines)
    else:
        missing_text = "No missing values."
    return (
        f"Columns and types:\n`{render_schema(infer_schema(frame))}`\n"
        f"First rows:\n`{head_table(frame)}`\n{missing_text}"
    )


def head_table(frame: Any, rows: int = HEAD_ROWS) -> str:
    """The first rows as a fixed-width table narrow enough for a phone."""

    def cell(value: Any) -> str:
        missing = value is None or (isinstance(value, float) and math.isnan(value))
        text = "" if missing else str(value)
        return text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 1] + "…"

    head = frame.head(rows)
    columns: list[list[str]] = []
    width = 0
    for name in head.columns:
        cells = [cell(name), *(cell(v) for v in head[name].tolist())]
        col_width = max(len(c) for c in cells)
        if columns and width + col_width + 1 > LINE_CHARS:
            break
        width += col_width + 1
        columns.append([c.ljust(col_width) for c in cells])
    lines = [" ".join(parts).rstrip() for parts in zip(*columns, strict=True)]
    hidden = len(head.columns) - len(columns)
    if hidden:
        lines.append(f"… {hidden} more column{'s' if hidden > 1 else ''} not shown")
    return "\n".join(lines)


def distributions(
    svc: Services,
    dataset: D.Loaded,
    columns: list[str],
    out_dir: Path,
    prefix: str,
    *,
    created: str = "",
) -> list[Reply]:
    """A histogram with a box plot per numeric column; top levels per other column; and all
    of it as one HTML report to keep."""
    from statbot.analysis.frames import column_kind
    from statbot.analysis.report.charts import histogram_box
    from statbot.workflows import html_report as H
    from statbot.workflows.results import Analysis, Chart, Table, analyze_line, reading

    frame = D.read_frame(svc, dataset.ref)
    out_dir.mkdir(parents=True, exist_ok=True)
    replies: list[Reply] = []
    kept = Analysis(text="", summary={"analysis": "explore"})
    texts: list[str] = []
    for i, name in enumerate(columns):
        series = frame[name]
        if column_kind(series) == "numeric" and series.notna().any():
            path = out_dir / f"{prefix}-{i}.png"
            png = histogram_box(series, name)
            D.write_result(path, png)
            replies.append(Reply.image(str(path), f"Distribution of {name}", f"{name}.png"))
            kept.charts.append(Chart(f"hist-{i}", f"Distribution of {name}", png))
            continue
        counts = series.dropna().astype(str).value_counts()
        lines = [f"*{name}*: {counts.size:,} distinct values in {int(counts.sum()):,} rows."]
        lines += [f"  {level}: {n:,}" for level, n in counts.head(TOP_LEVELS).items()]
        if counts.size > TOP_LEVELS:
            lines.append(f"  … {counts.size - TOP_LEVELS:,} more")
        replies.append(Reply.say("\n".join(lines)))
        texts.append("\n".join(lines))
        table = counts.rename_axis(name).reset_index(name="rows")
        kept.tables.append(Table(f"levels-{i}", f"Levels of {name} (all)", table))
    source = dataset.name
    shown = ", ".join(f"`{c}`" for c in columns)
    kept.text = "\n".join([f"{D.summary_line(dataset)} Distributions of {shown}.", *texts])
    kept.analyze = reading(analyze_line("describe", source, columns=",".join(columns)), dataset)
    report = H.analysis_report(kept, source, notes=dataset.notes, created=created)
    path = out_dir / f"{prefix}-report.html"
    replies.append(H.report_reply(report, path, H.file_stem("explore", source)))
    return replies


# steps --------------------------------------------------------------------------------------------
async def _show(ctx: Context, loaded: D.Loaded) -> None:
    text = await ctx.run_blocking(overview, D.services(ctx), loaded.ref)
    ctx.reply(f"{D.summary_line(loaded)}\n{text}")
    ctx.typed(ExploreData).selected = []
    ctx.goto("columns")


DATA = M.DataStep(
    prompt="Let's explore your data. " + D.ASK_DATA, on_loaded=_show, next=("columns",)
)


def _options(d: ExploreData) -> list[Option]:
    return D.column_options(d.loaded.columns, d.loaded.kinds)


async def enter_columns(ctx: Context) -> None:
    d = ctx.typed(ExploreData)
    text = (
        f"Which columns should I show the distribution of? Tick them and press Done. {retype.HINT}"
    )
    if d.loaded.rereadable:
        text += f" {HEADER_HINT}"
    ctx.reply(M.multi_menu(_options(d), text, d.selected))


async def on_columns(ctx: Context) -> None:
    d = ctx.typed(ExploreData)
    if await DATA.header_request(ctx):
        return
    if ctx.event.kind is EventKind.TEXT and await retype.apply(ctx, d.loaded):
        await enter_columns(ctx)
        return
    selected = await M.multi_select(ctx, _options(d), d.selected)
    if selected is None:
        return
    if not selected:
        ctx.reply('Tick at least one column first (or type "all").')
        return
    svc = D.services(ctx)
    out_dir = svc.data_dir / "results" / str(ctx.session.user_id)
    chosen_columns = selected[:12]
    replies = await ctx.run_blocking(
        distributions,
        svc,
        d.loaded,
        chosen_columns,
        out_dir,
        f"explore-{ctx.event.event_id}",
        created=stamp(ctx.event.at),
    )
    ctx.reply(*replies)
    await explain_after(ctx, replies)  # "What does this mean?" (issue 13)
    if len(selected) > len(chosen_columns):
        ctx.reply(f"I showed the first {len(chosen_columns)}; /explore again for the rest.")
    ctx.memory["result"] = {"analysis": "explore", "columns": chosen_columns}
    ctx.goto("done")


EXPLORE = Workflow(
    name="explore",
    command="explore",
    description="a first look at a dataset: columns, types, missing values, distributions",
    start="data",
    data=ExploreData.from_dict,
    states=(
        *DATA.states(),
        State(
            "columns",
            on_enter=enter_columns,
            on_event=on_columns,
            next=("done", DATA.header_state),
            help="Tick the columns to plot and press Done; or type `all`, `all except a, b`, "
            "or a list. " + retype.HINT,
        ),
        State(
            "done",
            prompt="/stats for statistics and tests on this data, /train to build a model.",
            final=True,
        ),
    ),
)
