"""/describe: a guided "describe this CSV" conversation.

Steps: a CSV (an upload, or a server path where the operator allows them) → its shape and
columns → the numeric columns to describe (tick them and press Done, or type ``all``,
``all except a, b`` or a list) → count, mean, std, min and max per column, as text and as a CSV
document.

The session keeps only references (the staged file's path, column names); the table is read
again from the file when it is needed, off the event loop. The report file's name derives from
the event id, so a replayed event rewrites the same file instead of leaving a second one.
"""

from __future__ import annotations

import math
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from statbot.analysis.errors import LimitExceeded
from statbot.analysis.io.limits import DataLimits, ensure_dataset_size
from statbot.analysis.io.paths import looks_like_path, resolve_server_path
from statbot.engine.events import EventKind
from statbot.engine.files import safe_file_name
from statbot.engine.replies import DONE_OPTION, Option, Reply
from statbot.engine.workflow import Context, State, Workflow
from statbot.errors import DataError, StatbotError
from statbot.workflows import quota_checks as Q
from statbot.workflows.choose import NoMatch, norm, resolve_many
from statbot.workflows.data import write_result
from statbot.workflows.session_data_plain import DescribeData, DescribeFile

if TYPE_CHECKING:
    from statbot.workflows.services import Services

STATS = ("count", "mean", "std", "min", "max")
ASK_FILE = "Send me a CSV file (Excel, Parquet and JSON work too): upload it, or type its path."
FILE_HELP = (
    "I describe the numeric columns of a CSV file. Upload the file (or type its path if the "
    "operator allows server paths), then choose the columns. /cancel stops."
)
COLUMNS_HELP = (
    'Tick the columns to describe and press Done. You can also type "all", '
    '"all except a, b", or a list such as "price, weight". /back chooses another file.'
)


@dataclass(frozen=True, slots=True)
class TableInfo:
    rows: int
    columns: list[str]
    numeric: list[str]
    warnings: list[str]


def _services(ctx: Context) -> Services:
    services: Services | None = ctx.services
    if services is None or not hasattr(services, "data_dir"):
        raise RuntimeError("/describe needs the workflow services (data_dir, settings, files)")
    return services


def _limits(services: Any) -> DataLimits:
    return DataLimits.from_settings(services.settings)


def inspect_table(path: Path, limits: DataLimits) -> TableInfo:
    """Shape and columns of a data file; which columns are numeric (as ``statbot analyze``
    classifies them)."""
    from statbot.analysis.io import load_path
    from statbot.analysis.stats.describe import describe

    loaded = load_path(path, limits)
    result = describe(loaded.frame)
    return TableInfo(
        rows=loaded.rows,
        columns=[c.name for c in result.columns],
        numeric=[c.name for c in result.columns if c.kind == "numeric"],
        warnings=list(loaded.warnings),
    )


def summarise(path: Path, columns: list[str], limits: DataLimits) -> list[dict[str, Any]]:
    """count/mean/std/min/max per column, in the order given: the numbers of
    ``statbot analyze describe`` (statbot.analysis.stats.describe), not a second implementation."""
    from statbot.analysis.io import load_path
    from statbot.analysis.stats.describe import describe

    result = describe(load_path(path, limits).frame, columns)
    return [
        {"column": c.name, "count": c.count, **{s: float(c.stats[s]) for s in STATS[1:]}}
        for c in result.columns
    ]


def reproduce_line(source: str, columns: list[str]) -> str:
    """The ``statbot analyze`` command that prints the same numbers (DESIGN.md "Chat")."""
    return (
        f"statbot analyze describe {shlex.quote(source)} "
        f"--columns {shlex.quote(','.join(columns))} --json"
    )


def write_report(rows: list[dict[str, Any]], target: Path) -> None:
    """The numbers as a spreadsheet-safe CSV (full float precision), written atomically."""
    import pandas as pd

    from statbot.analysis.io import safe_csv_bytes

    frame = pd.DataFrame(rows, columns=["column", *STATS])
    write_result(target, safe_csv_bytes(frame))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "—" if math.isnan(value) else f"{value:.6g}"
    return str(value)


# step 1: the file ------------------------------------------------------------------------------
async def on_file(ctx: Context) -> None:
    try:
        located = await _locate(ctx)
        if located is None:
            ctx.reply(ASK_FILE)
            return
        path, name = located
        svc = _services(ctx)
        limits, quota = await ctx.run_blocking(Q.user_data_limits, svc, ctx.session.user_id)
        await ctx.run_blocking(ensure_dataset_size, path, svc.settings.max_dataframe_size_mb)
        try:
            info = await ctx.run_blocking(inspect_table, path, limits)
        except LimitExceeded as exc:  # the user's rows per dataset, said as their quota
            raise Q.rows_refusal(svc, quota, exc) from exc
    except StatbotError as exc:  # the user's file or path: say what is wrong, ask again
        ctx.reply(exc.user_message)
        return
    kinds = ", ".join(
        f"`{c}` ({'numeric' if c in info.numeric else 'other'})" for c in info.columns
    )
    ctx.reply(f"*{name}*: {info.rows} rows × {len(info.columns)} columns.\nColumns: {kinds}")
    if info.warnings:
        ctx.reply("\n".join(info.warnings))
    if not info.numeric or info.rows == 0:
        ctx.reply("There are no numeric values to describe in this file. Send another file.")
        return
    source = name if ctx.event.kind is EventKind.UPLOAD else str(path)
    data = ctx.typed(DescribeData)
    data.file = DescribeFile(path=str(path), name=name, source=source, numeric=info.numeric)
    data.selected = []
    ctx.goto("columns")


async def _locate(ctx: Context) -> tuple[Path, str] | None:
    """The file the event brings: an upload (fetched into staging) or an allowed server path."""
    services = _services(ctx)
    event = ctx.event
    limits = _limits(services)
    if event.kind is EventKind.UPLOAD and event.upload is not None:
        upload = event.upload
        name = safe_file_name(upload.file_name)
        if upload.size > limits.max_file_bytes:
            raise DataError(
                "upload too large",
                user_message=f"'{name}' is {upload.size / 2**20:.1f} MB; the limit is "
                f"{limits.max_file_mb:g} MB.",
            )
        dest = services.staging_dir(ctx.session.user_id, event.event_id)
        return Path(await services.files.fetch(upload, dest)), name
    if event.kind is EventKind.TEXT and looks_like_path(event.text):
        path = await ctx.run_blocking(
            resolve_server_path,
            event.text,
            services.settings.local_path_roots,
            limits.max_file_bytes,
        )
        return path, path.name
    return None


# step 2: the columns ---------------------------------------------------------------------------
def _options(ctx: Context) -> list[Option]:
    # Ids are positions, not names: a column may be called anything, even "__done__".
    numeric = ctx.typed(DescribeData).table.numeric
    return [Option(f"c{i}", str(name)) for i, name in enumerate(numeric)]


def _menu(ctx: Context) -> Reply:
    selected = tuple(ctx.typed(DescribeData).selected)
    return Reply.ask(
        'Which columns should I describe? Tick them and press Done, or type "all", '
        '"all except a, b" or a list such as "a, b".',
        _options(ctx),
        multi=True,
        selected=selected,
    )


async def show_columns(ctx: Context) -> None:
    ctx.reply(_menu(ctx))


async def on_columns(ctx: Context) -> None:
    event = ctx.event
    options = _options(ctx)
    data = ctx.typed(DescribeData)
    if event.kind is EventKind.CHOICE and event.choice != DONE_OPTION:
        if event.choice not in {o.id for o in options}:
            ctx.reply("That button is not in this list.", _menu(ctx))
            return
        selected = list(data.selected)
        if event.choice in selected:
            selected.remove(event.choice)
        else:
            selected.append(event.choice)
        data.selected = [o.id for o in options if o.id in selected]
        ctx.reply(_menu(ctx))
        return
    if event.kind is EventKind.CHOICE or norm(event.text) == "done":
        if not data.selected:
            ctx.reply('Tick at least one column first (or type "all").', _menu(ctx))
            return
        ctx.goto("report")
        return
    chosen = resolve_many(event.text, options, "column")
    if isinstance(chosen, NoMatch):
        ctx.reply(chosen.message)
        return
    data.selected = [o.id for o in chosen]
    if not chosen:
        ctx.reply(_menu(ctx))
        return
    ctx.goto("report")


# step 3: the report ----------------------------------------------------------------------------
async def report(ctx: Context) -> None:
    services = _services(ctx)
    data = ctx.typed(DescribeData)
    by_id = {o.id: o.label for o in _options(ctx)}
    columns = [by_id[i] for i in data.selected if i in by_id]
    name = data.table.name
    limits, _ = await ctx.run_blocking(Q.user_data_limits, services, ctx.session.user_id)
    rows = await ctx.run_blocking(summarise, Path(data.table.path), columns, limits)
    lines = [f"*{name}* — {len(rows)} column(s):"]
    for row in rows:
        stats = ", ".join(f"{s} {_fmt(row[s])}" for s in STATS)
        lines.append(f"`{row['column']}`: {stats}")
    source = data.table.source
    lines.append(f"Same numbers from the command line: `{reproduce_line(source, columns)}`")
    ctx.reply("\n".join(lines))
    stem = Path(name).stem or "data"
    target = (
        Path(services.data_dir)
        / "results"
        / str(ctx.session.user_id)
        / f"describe-{ctx.event.event_id}.csv"
    )
    await ctx.run_blocking(write_report, rows, target)
    ctx.reply(Reply.document(str(target), f"describe-{stem}.csv", "The same numbers as CSV."))
    ctx.finish()


DESCRIBE = Workflow(
    name="describe",
    command="describe",
    description="Summary statistics of a CSV file's columns",
    start="file",
    data=DescribeData.from_dict,
    states=(
        State(
            "file",
            prompt=ASK_FILE,
            help=FILE_HELP,
            on_event=on_file,
            next=("columns",),
            accepts=frozenset({EventKind.UPLOAD, EventKind.TEXT}),
        ),
        State(
            "columns",
            help=COLUMNS_HELP,
            on_enter=show_columns,
            on_event=on_columns,
            next=("report",),
        ),
        State("report", on_enter=report, final=True),
    ),
)
