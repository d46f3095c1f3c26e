"""/stats' variable steps: the two variables of a test (A, then B, chosen from what fits A), and
the target and features of a regression."""

from __future__ import annotations

from statbot.engine.replies import Option, Reply
from statbot.engine.workflow import Context
from statbot.workflows import data as D
from statbot.workflows import results as R
from statbot.workflows import steps as M

NONE_ID = "__none__"  # "no second variable": a one-sample test


# test: variable A then B -------------------------------------------------------------------------
async def enter_var_a(ctx: Context) -> None:
    dataset = ctx.data["dataset"]
    ctx.reply(
        Reply.ask(
            "Test: which variable first (a numeric measurement, or a group)?",
            D.column_options(dataset["columns"], dataset.get("kinds")),
        )
    )


async def on_var_a(ctx: Context) -> None:
    picked = M.pick_one(ctx, D.column_options(ctx.data["dataset"]["columns"]))
    if picked is not None:
        ctx.data["var_a"] = picked
        ctx.goto("var_b")


def _var_b_options(ctx: Context) -> list[Option]:
    dataset = ctx.data["dataset"]
    others = [c for c in dataset["columns"] if c != ctx.data["var_a"]]
    return [
        Option(NONE_ID, "none (one-sample test)"),
        *D.column_options(others, dataset.get("kinds")),
    ]


async def enter_var_b(ctx: Context) -> None:
    ctx.reply(
        Reply.ask(
            f"Compare *{ctx.data['var_a']}* with which variable? (A group column compares the "
            "groups; *none* tests the mean against 0.)",
            _var_b_options(ctx),
        )
    )


async def on_var_b(ctx: Context) -> None:
    picked = M.pick_one(ctx, _var_b_options(ctx), none_id=NONE_ID)
    if picked is None:
        return
    await R.run_analysis(
        ctx, "test", {"a": ctx.data["var_a"], "b": None if picked == NONE_ID else picked}
    )


# regression: target then features ---------------------------------------------------------------
async def enter_target(ctx: Context) -> None:
    dataset = ctx.data["dataset"]
    ctx.reply(
        Reply.ask(
            "Regression: which column should be explained (the target)? A number gives linear "
            "regression, a yes/no column logistic regression.",
            D.column_options(dataset["columns"], dataset.get("kinds")),
        )
    )


async def on_target(ctx: Context) -> None:
    picked = M.pick_one(ctx, D.column_options(ctx.data["dataset"]["columns"]))
    if picked is None:
        return
    svc = D.services(ctx)
    frame = await ctx.run_blocking(D.read_frame, svc, ctx.data["dataset"]["ref"])
    await ctx.run_blocking(R.regression_kind, frame, picked)  # says why a target cannot work
    ctx.data["target"] = picked
    ctx.data["selected"] = [c for c in ctx.data["dataset"]["columns"] if c != picked]
    ctx.goto("features")


def _feature_options(ctx: Context) -> list[Option]:
    dataset = ctx.data["dataset"]
    others = [c for c in dataset["columns"] if c != ctx.data["target"]]
    return D.column_options(others, dataset.get("kinds"))


async def enter_features(ctx: Context) -> None:
    ctx.reply(
        M.multi_menu(
            ctx, _feature_options(ctx), f"Explain *{ctx.data['target']}* with which columns?"
        )
    )


async def on_features(ctx: Context) -> None:
    selected = await M.multi_select(ctx, _feature_options(ctx))
    if selected is None:
        return
    if not selected:
        ctx.reply("Choose at least one column to explain it with.")
        return
    await R.run_analysis(ctx, "regression", {"target": ctx.data["target"], "features": selected})
