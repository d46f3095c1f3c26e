"""/stats' regression steps: the target and the features (the test's steps are in
workflows/stats_test.py)."""

from __future__ import annotations

from statbot.engine.replies import Option, Reply
from statbot.engine.workflow import Context
from statbot.workflows import data as D
from statbot.workflows import results as R
from statbot.workflows import steps as M
from statbot.workflows.regression import regression_kind
from statbot.workflows.session_data import StatsData, required


def _all_columns(ctx: Context) -> list[Option]:
    dataset = ctx.typed(StatsData).loaded
    return D.column_options(dataset.columns, dataset.kinds)


def _other_columns(ctx: Context, chosen: str) -> list[Option]:
    dataset = ctx.typed(StatsData).loaded
    return D.column_options([c for c in dataset.columns if c != chosen], dataset.kinds)


# regression: target then features ---------------------------------------------------------------
async def enter_target(ctx: Context) -> None:
    ctx.reply(
        Reply.ask(
            "Regression: which column should be explained (the target)? A number gives linear "
            "regression, a yes/no column logistic regression.",
            _all_columns(ctx),
        )
    )


async def on_target(ctx: Context) -> None:
    d = ctx.typed(StatsData)
    picked = M.pick_one(ctx, D.column_options(d.loaded.columns))
    if picked is None:
        return
    svc = D.services(ctx)
    frame = await ctx.run_blocking(D.read_frame, svc, d.loaded.ref)
    await ctx.run_blocking(regression_kind, frame, picked)  # says why a target cannot work
    d.target = picked
    d.selected = [c for c in d.loaded.columns if c != picked]
    ctx.goto("features")


def _feature_options(ctx: Context) -> list[Option]:
    return _other_columns(ctx, required(ctx.typed(StatsData).target, "the target"))


async def enter_features(ctx: Context) -> None:
    d = ctx.typed(StatsData)
    text = f"Explain *{d.target}* with which columns?"
    ctx.reply(M.multi_menu(_feature_options(ctx), text, d.selected or ()))


async def on_features(ctx: Context) -> None:
    d = ctx.typed(StatsData)
    if d.selected is None:
        d.selected = []
    selected = await M.multi_select(ctx, _feature_options(ctx), d.selected)
    if selected is None:
        return
    if not selected:
        ctx.reply("Choose at least one column to explain it with.")
        return
    await R.run_analysis(ctx, "regression", {"target": d.target, "features": selected})
