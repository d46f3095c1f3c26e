"""/train's first steps: where the data comes from — an upload or a server path (load it now, or
defer loading and describe the columns by hand) — and the check of its column types."""

from __future__ import annotations

from pathlib import Path

from statbot.engine.replies import Option, Reply
from statbot.engine.workflow import Context
from statbot.workflows import data as D
from statbot.workflows import header as H
from statbot.workflows import retype
from statbot.workflows import steps as S
from statbot.workflows.session_data import Deferred, TrainData, required

LOAD_NOW, DEFER = "load_now", "defer"
OK = "ok"


def data(ctx: Context) -> TrainData:
    """/train's data (``intent``: what a one-shot request such as "train a random forest to
    predict price" already said)."""
    return ctx.typed(TrainData)


# data ----------------------------------------------------------------------------------------
def _enough_columns(ctx: Context, loaded: D.Loaded) -> bool:
    """A model needs a target and at least one column to learn from."""
    if len(loaded.columns) >= 2:
        return True
    ctx.reply(
        f"*{loaded.name}* has only one column ({', '.join(loaded.columns) or 'none'}); a model "
        "needs a column to predict and at least one to learn from. Send a file with more columns."
    )
    return False


async def _to_schema(ctx: Context, loaded: D.Loaded) -> None:
    d = data(ctx)
    d.schema_text, d.overrides = loaded.schema_text, {}  # corrections named the old columns
    ctx.goto("schema")


async def _ask_path_mode(ctx: Context, path: Path) -> None:
    data(ctx).path = str(path)
    ctx.goto("path_mode")


DATA = S.DataStep(
    prompt="Let's train a model. " + D.ASK_DATA,
    on_loaded=_to_schema,
    on_path=_ask_path_mode,
    check=_enough_columns,
    next=("path_mode", "schema"),
    help="Upload a data file (or type a server path). One row per example, one "
    "column per variable, with a header row.",
)


async def enter_path_mode(ctx: Context) -> None:
    ctx.reply(
        Reply.ask(
            f"`{data(ctx).path}` — load it now, or defer loading until training (then you "
            "describe its columns yourself, e.g. `price:float, city:category, id:ignore`)?",
            [Option(LOAD_NOW, "Load now"), Option(DEFER, "Defer loading")],
        )
    )


async def on_path_mode(ctx: Context) -> None:
    answer = ctx.event.choice or ctx.event.text.strip().lower()
    if answer in (LOAD_NOW, "load now", "now", "load"):
        loaded = await D.load_server_file(ctx, Path(required(data(ctx).path, "the path")))
        await DATA.accept(ctx, loaded, fresh=True)
    elif answer in (DEFER, "defer", "defer loading", "later"):
        ctx.goto("spec")
    else:
        ctx.reply("Please choose *Load now* or *Defer loading*.")


async def on_spec(ctx: Context) -> None:
    from statbot.analysis.io.schema import parse_schema_spec

    spec = await ctx.run_blocking(parse_schema_spec, ctx.event.text)
    d = data(ctx)
    path = required(d.path, "the path")
    kinds = {name: kind for name, kind in spec.columns if kind != "ignore"}
    d.deferred = Deferred(path, ctx.event.text.strip())
    d.dataset = D.Loaded(ref={}, name=Path(path).name, rows=0, columns=list(kinds), kinds=kinds)
    ctx.reply(f"Understood {len(kinds)} columns; the file is read when training starts.")
    ctx.goto("target")


# schema --------------------------------------------------------------------------------------
async def enter_schema(ctx: Context) -> None:
    d = data(ctx)
    if not d.schema_text:
        d.schema_text = await ctx.run_blocking(D.preview_overrides, D.services(ctx), d.loaded, {})
    options = [Option(OK, "Looks right")]
    if d.loaded.rereadable:
        options.append(Option(H.OTHER_ROW, "Header is on another row"))
    ctx.reply(
        Reply.ask(
            f"{D.summary_line(d.loaded)} Column types as I read them:\n`{d.schema_text}`\n"
            'Correct one by typing e.g. "treat zip as category", or go on.',
            options,
        )
    )


async def on_schema(ctx: Context) -> None:
    d = data(ctx)
    if await DATA.header_request(ctx):
        return
    if ctx.event.choice == OK or ctx.event.text.strip().lower() in (
        "ok",
        "yes",
        "looks right",
    ):
        if d.overrides:
            svc = D.services(ctx)
            loaded = await ctx.run_blocking(
                D.store_with_overrides, svc, ctx.session.user_id, d.loaded, d.overrides
            )
            D.remember(ctx, loaded)
        ctx.goto("target")
        return
    parsed = retype.parse(ctx.event.text)
    if parsed is None:
        ctx.reply('Type a correction like "treat zip as category", or press *Looks right*.')
        return
    got = await retype.propose(ctx, d.loaded, d.overrides, parsed)
    if got is not None:
        d.overrides, d.schema_text = got
        await enter_schema(ctx)
