"""/stats' test steps: variable A, variable B (or none), then what the pair needs (issue 11):

- two numeric columns compared as samples: are they paired (two measurements of the same
  rows) or independent? Before/after-style names with values in the same rows make "Paired"
  the suggested answer, and the question says why;
- none: the value to test against, typed by the user (0 is offered as a button);
- after the result, the other method (the rank test or the means test) is one press away.
"""

from __future__ import annotations

from typing import Any

from statbot.engine.replies import Option, Reply
from statbot.engine.workflow import Context
from statbot.workflows import data as D
from statbot.workflows import results as R
from statbot.workflows import steps as M
from statbot.workflows.choose import norm
from statbot.workflows.session_data import StatsData, required

NONE_ID = "__none__"  # "no second variable": a one-sample test
PAIRED, INDEPENDENT = "paired", "independent"
NUMERIC_KINDS = frozenset({"numeric", "integer"})
PAIRED_WORDS = {"paired", "yes", "same rows", "pairs", "paired (same rows)", "p"}
INDEPENDENT_WORDS = {"independent", "no", "independent samples", "separate", "i"}


def _d(ctx: Context) -> StatsData:
    return ctx.typed(StatsData)


def _other_columns(ctx: Context, chosen: str) -> list[Option]:
    dataset = _d(ctx).loaded
    return D.column_options([c for c in dataset.columns if c != chosen], dataset.kinds)


async def run_test(ctx: Context, params: dict[str, Any]) -> None:
    _d(ctx).test = dict(params)
    await R.run_analysis(ctx, "test", params)


# variable A then B -----------------------------------------------------------------------------
async def enter_var_a(ctx: Context) -> None:
    dataset = _d(ctx).loaded
    ctx.reply(
        Reply.ask(
            "Test: which variable first (a numeric measurement, or a group)?",
            D.column_options(dataset.columns, dataset.kinds),
        )
    )


async def on_var_a(ctx: Context) -> None:
    picked = M.pick_one(ctx, D.column_options(_d(ctx).loaded.columns))
    if picked is not None:
        _d(ctx).var_a = picked
        ctx.goto("var_b")


def _var_b_options(ctx: Context) -> list[Option]:
    var_a = required(_d(ctx).var_a, "variable A")
    return [Option(NONE_ID, "none (one-sample test)"), *_other_columns(ctx, var_a)]


async def enter_var_b(ctx: Context) -> None:
    ctx.reply(
        Reply.ask(
            f"Compare *{_d(ctx).var_a}* with which variable? (A group column compares the "
            "groups; *none* tests it against a value you type.)",
            _var_b_options(ctx),
        )
    )


def _kind(frame: Any, var_a: str, var_b: str) -> str:
    from statbot.analysis.stats.tests import comparison

    return comparison(frame, var_a, var_b)[0]


async def on_var_b(ctx: Context) -> None:
    d = _d(ctx)
    picked = M.pick_one(ctx, _var_b_options(ctx), none_id=NONE_ID)
    if picked is None:
        return
    var_a = required(d.var_a, "variable A")
    kinds = d.loaded.kinds
    if picked == NONE_ID:
        if kinds.get(var_a, "numeric") not in NUMERIC_KINDS:
            ctx.reply(
                f'"{var_a}" is not numeric, so it cannot be tested against a value; pick a '
                "second column to compare it with."
            )
            return
        d.var_b = None
        ctx.goto("mu")
        return
    if kinds.get(var_a) in NUMERIC_KINDS and kinds.get(picked) in NUMERIC_KINDS:
        frame = await ctx.run_blocking(D.read_frame, D.services(ctx), d.loaded.ref)
        if await ctx.run_blocking(_kind, frame, var_a, picked) == "samples":
            d.var_b = picked
            ctx.goto("pairing")
            return
    await run_test(ctx, {"a": var_a, "b": picked})


# paired or independent -----------------------------------------------------------------------
def _hint(frame: Any, var_a: str, var_b: str) -> str | None:
    from statbot.analysis.stats.tests import paired_hint

    return paired_hint(frame, var_a, var_b)


async def enter_pairing(ctx: Context) -> None:
    d = _d(ctx)
    a, b = required(d.var_a, "variable A"), required(d.var_b, "variable B")
    frame = await ctx.run_blocking(D.read_frame, D.services(ctx), d.loaded.ref)
    hint = await ctx.run_blocking(_hint, frame, a, b)
    question = (
        f"Are *{a}* and *{b}* two measurements of the same rows (paired, e.g. before and after), "
        "or independent samples?"
    )
    options = [Option(PAIRED, "Paired (same rows)"), Option(INDEPENDENT, "Independent samples")]
    if hint:
        question += f" Paired looks likely: {hint}."
        options[0] = Option(PAIRED, "Paired (suggested)")
    ctx.reply(Reply.ask(question, options))


async def on_pairing(ctx: Context) -> None:
    d = _d(ctx)
    answer = ctx.event.choice or norm(ctx.event.text)
    if answer in PAIRED_WORDS:
        paired = True
    elif answer in INDEPENDENT_WORDS:
        paired = False
    else:
        ctx.reply("Press *Paired* or *Independent samples* (or type paired / independent).")
        return
    params: dict[str, Any] = {"a": d.var_a, "b": d.var_b}
    if paired:
        params["paired"] = True
    await run_test(ctx, params)


# the value of a one-sample test ----------------------------------------------------------------
async def enter_mu(ctx: Context) -> None:
    ctx.reply(
        Reply.ask(
            f"Test *{_d(ctx).var_a}* against which value? Type a number (e.g. a target, a "
            "norm, or a previous study's mean), or press 0.",
            [Option("0", "0")],
        )
    )


def parse_number(text: str) -> float | None:
    """A typed number: ``5``, ``-2.5``, ``1e3``, ``3,5`` (decimal comma); None otherwise."""
    import math

    raw = text.strip().replace(" ", "")
    if raw.count(",") == 1 and "." not in raw:
        raw = raw.replace(",", ".")
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


async def on_mu(ctx: Context) -> None:
    value = parse_number(ctx.event.choice or ctx.event.text or "")
    if value is None:
        ctx.reply("Please type a number to test against, such as 0, 100 or 5.5.")
        return
    await run_test(ctx, {"a": _d(ctx).var_a, "b": None, "mu": value})


# after the result: the other method ------------------------------------------------------------
def other_method(ctx: Context) -> Option | None:
    """The button that reruns the last test with the other method, if it has one."""
    from statbot.analysis.stats.texts import MEANS_TESTS, RANK_TESTS

    result = ctx.memory.get("result") or {}
    if _d(ctx).test is None or result.get("analysis") != "test":
        return None
    alternative, test = result.get("alternative"), str(result.get("test"))
    other = (RANK_TESTS if alternative == "ranks" else MEANS_TESTS).get(test)
    if alternative not in ("ranks", "means") or other is None:
        return None
    return Option(f"method:{alternative}", f"Use {other}"[:40])


async def rerun_with(ctx: Context, method: str) -> None:
    params = dict(required(_d(ctx).test, "the last test"))
    params["method"] = method
    await run_test(ctx, params)
