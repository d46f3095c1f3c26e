"""/stats' variable steps: the two variables of a test (A, then B, chosen from what fits A), and
the target and features of a regression."""

from __future__ import annotations

from statbot.engine.replies import Option, Reply
from statbot.engine.workflow import Context
from statbot.workflows import data as D
from statbot.workflows import results as R
from statbot.workflows import steps as M
from statbot.workflows.regression import regression_kind
from statbot.workflows.session_data import StatsData, required

NONE_ID = "__none__"  # "no second variable": a one-sample test


def _all_columns(ctx: Context) -> list[Option]:
    dataset = ctx.typed(StatsData).loaded
    return D.column_options(dataset.columns, dataset.kinds)


def _other_columns(ctx: Context, chosen: str) -> list[Option]:
    dataset = ctx.typed(StatsData).loaded
    return D.column_options([c for c in dataset.columns if c != chosen], dataset.kinds)


# test: variable A then B -------------------------------------------------------------------------
async def enter_var_a(ctx: Context) -> None:
    ctx.reply(
        Reply.ask(
            "Test: which variable first (a numeric measurement, or a group)?", _all_columns(ctx)
        )
    )


async def on_var_a(ctx: Context) -> None:
    picked = M.pick_one(ctx, D.column_options(ctx.typed(StatsData).loaded.columns))
    if picked is not None:
        ctx.typed(StatsData).var_a = picked
        ctx.goto("var_b")


def _var_b_options(ctx: Context) -> list[Option]:
    var_a = required(ctx.typed(StatsData).var_a, "variable A")
    return [Option(NONE_ID, "none (one-sample test)"), *_other_columns(ctx, var_a)]


async def enter_var_b(ctx: Context) -> None:
    ctx.reply(
        Reply.ask(
            f"Compare *{ctx.typed(StatsData).var_a}* with which variable? (A group column "
            "compares the groups; *none* tests the mean against 0.)",
            _var_b_options(ctx),
        )
    )


async def on_var_b(ctx: Context) -> None:
    picked = M.pick_one(ctx, _var_b_options(ctx), none_id=NONE_ID)
    if picked is None:
        return
    var_a = ctx.typed(StatsData).var_a
    await R.run_analysis(ctx, "test", {"a": var_a, "b": None if picked == NONE_ID else picked})


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
