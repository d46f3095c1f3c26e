"""/stats: data → analysis (describe, correlation, test, regression) → variables → result →
another analysis or done.

The test is chosen from the variables' types by :func:`statbot.analysis.stats.tests.choose_and_run`
(assumptions checked, fallback used and said); regression is OLS for a numeric target and
logistic for a target with two values. Results are short text, every table as a CSV document,
charts as images, and the ``statbot analyze`` line that reproduces them.
"""

from __future__ import annotations

from statbot.engine.events import EventKind
from statbot.engine.replies import Option, Reply
from statbot.engine.workflow import Context, State, Workflow
from statbot.workflows import data as D
from statbot.workflows import results as R
from statbot.workflows import retype
from statbot.workflows import stats_test as T
from statbot.workflows import steps as M
from statbot.workflows.choose import NoMatch, norm, resolve_one
from statbot.workflows.session_data import StatsData, required
from statbot.workflows.stats_vars import enter_features, enter_target, on_features, on_target

ANALYSES = (
    Option("describe", "Describe"),
    Option("correlation", "Correlation"),
    Option("test", "Test"),
    Option("regression", "Regression"),
)
SYNONYMS = {
    "summary": "describe",
    "summarise": "describe",
    "summarize": "describe",
    "correlate": "correlation",
    "corr": "correlation",
    "hypothesis test": "test",
    "t test": "test",
    "compare": "test",
    "ols": "regression",
    "linear regression": "regression",
    "logistic regression": "regression",
    "logit": "regression",
    "regress": "regression",
}
AGAIN, FINISH = "again", "finish"
NUMERIC_KINDS = frozenset({"numeric", "integer"})
ANALYSIS_IDS = frozenset(o.id for o in ANALYSES)
FIRST_STEP = {"describe": "columns", "correlation": "columns", "test": "var_a"}


# data ---------------------------------------------------------------------------------------------
def data(ctx: Context) -> StatsData:
    return ctx.typed(StatsData)


async def _note_preset(ctx: Context) -> None:
    d = data(ctx)
    if d.intent.get("analysis") in ANALYSIS_IDS:
        # "describe it", "what about correlation?": the analysis is chosen already
        d.preset_analysis = d.intent["analysis"]


async def _to_analysis(ctx: Context, loaded: D.Loaded) -> None:
    if data(ctx).preset_analysis is None:  # the analysis step takes a typed correction
        await retype.offer(ctx, loaded)
    ctx.goto("analysis")


DATA = M.DataStep(
    prompt="Let's look at your data. " + D.ASK_DATA,
    on_loaded=_to_analysis,
    on_start=_note_preset,
    say_summary=True,
    next=("analysis",),
)


# analysis -----------------------------------------------------------------------------------------
async def enter_analysis(ctx: Context) -> None:
    d = data(ctx)
    preset, d.preset_analysis = d.preset_analysis, None
    if preset in ANALYSIS_IDS:
        _choose(ctx, preset)
        return
    ctx.reply(Reply.ask("Which analysis?", ANALYSES))


def _choose(ctx: Context, analysis: str) -> None:
    data(ctx).analysis = analysis
    ctx.goto(FIRST_STEP.get(analysis, "target"))


async def on_analysis(ctx: Context) -> None:
    event = ctx.event
    if await DATA.header_request(ctx):
        return
    if event.kind is EventKind.TEXT and await retype.apply(ctx, data(ctx).loaded):
        ctx.reply(Reply.ask("Which analysis?", ANALYSES))
        return
    if event.kind is EventKind.CHOICE:
        picked: str | None = event.choice if event.choice in ANALYSIS_IDS else None
    else:
        typed = norm(event.text).rstrip("?")
        picked = SYNONYMS.get(typed)
        if picked is None:
            found = resolve_one(event.text, ANALYSES, "analysis")
            if isinstance(found, NoMatch):
                ctx.reply(found.message)
                return
            picked = found.id
    if picked is None:
        ctx.reply("Please choose one of the analyses.")
        return
    _choose(ctx, picked)


# columns (describe, correlation) ----------------------------------------------------------------
def _column_choices(d: StatsData) -> list[Option]:
    dataset = d.loaded
    columns = dataset.columns
    if d.analysis == "correlation":
        columns = [c for c in columns if dataset.kinds.get(c) in NUMERIC_KINDS]
    return D.column_options(columns, dataset.kinds)


async def enter_columns(ctx: Context) -> None:
    d = data(ctx)
    options = _column_choices(d)
    if d.analysis == "correlation" and len(options) < 2:
        ctx.reply("Correlation needs at least two numeric columns; this data has fewer.")
        ctx.goto("analysis")
        return
    if d.selected is None:
        d.selected = [o.id for o in options][:12]
    text = "Which columns? Untick what to leave out, then Done."
    if d.analysis == "correlation":
        offered = {o.id for o in options}
        left = [c for c in d.loaded.columns if c not in offered]
        if left:
            text += f" Not offered, as they are not numeric: {', '.join(left)}."
    ctx.reply(M.multi_menu(options, text, d.selected))


async def on_columns(ctx: Context) -> None:
    d = data(ctx)
    if d.selected is None:
        d.selected = []
    selected = await M.multi_select(ctx, _column_choices(d), d.selected)
    if selected is None:
        return
    analysis = required(d.analysis, "the analysis")
    need = 2 if analysis == "correlation" else 1
    if len(selected) < need:
        ctx.reply(f"Choose at least {need} column{'s' if need > 1 else ''}.")
        return
    await R.run_analysis(ctx, analysis, {"columns": selected})


# running and the result --------------------------------------------------------------------------
async def enter_more(ctx: Context) -> None:
    options = [Option(AGAIN, "Another analysis"), Option(FINISH, "Done")]
    other = T.other_method(ctx)
    ctx.reply(Reply.ask("Anything else on this data?", [*([other] if other else []), *options]))


OTHER_METHOD_WORDS = {"ranks": ("rank test", "ranks", "nonparametric"), "means": ("means",)}


async def on_more(ctx: Context) -> None:
    answer = ctx.event.choice or norm(ctx.event.text)
    other = T.other_method(ctx)
    if other is not None:
        method = other.id.removeprefix("method:")
        if answer == other.id or answer in OTHER_METHOD_WORDS[method] + (norm(other.label),):
            await T.rerun_with(ctx, method)
            return
    if answer in (AGAIN, "another", "another analysis", "again", "yes"):
        data(ctx).new_analysis()
        ctx.goto("analysis")
    elif answer in (FINISH, "done", "no", "finish", "thanks"):
        ctx.reply("Done. /stats again any time; /train builds a model from this data.")
        ctx.finish()
    else:
        picked = SYNONYMS.get(answer) or next(
            (o.id for o in ANALYSES if norm(o.label) == answer), None
        )
        if picked is None:
            ctx.reply("Press *Another analysis* or *Done*.")
            return
        d = data(ctx)
        d.new_analysis()
        d.preset_analysis = picked
        ctx.goto("analysis")


COLUMNS_HELP = "Tick columns and press Done, or type `all`, `all except a, b`, or a list."

STATS = Workflow(
    name="stats",
    command="stats",
    description="statistics: describe, correlation, tests, regression",
    start="data",
    data=StatsData.from_dict,
    states=(
        *DATA.states(),
        State(
            "analysis",
            on_enter=enter_analysis,
            on_event=on_analysis,
            next=("columns", "var_a", "target", DATA.header_state),
            help="*Describe* summarises columns; *Correlation* relates numeric columns; *Test* "
            "compares a variable with another (the test is picked from their types); "
            "*Regression* explains one column with others. " + retype.HINT,
        ),
        State(
            "columns",
            on_enter=enter_columns,
            on_event=on_columns,
            next=("more", "analysis"),
            help=COLUMNS_HELP,
        ),
        State(
            "var_a",
            on_enter=T.enter_var_a,
            on_event=T.on_var_a,
            next=("var_b",),
            help="Pick the first variable: a measurement (number) or a grouping column.",
        ),
        State(
            "var_b",
            on_enter=T.enter_var_b,
            on_event=T.on_var_b,
            next=("more", "pairing", "mu"),
            help="Pick the second variable, or *none* to test the first against a value.",
        ),
        State(
            "pairing",
            on_enter=T.enter_pairing,
            on_event=T.on_pairing,
            next=("more",),
            help="*Paired*: each row holds two measurements of the same unit (before/after); "
            "the test compares them row by row. *Independent*: two separate samples.",
        ),
        State(
            "mu",
            on_enter=T.enter_mu,
            on_event=T.on_mu,
            next=("more",),
            help="Type the value to test against: a target, a norm, a published mean (e.g. 0).",
        ),
        State(
            "target",
            on_enter=enter_target,
            on_event=on_target,
            next=("features",),
            help="The column to explain: numeric (linear regression) or two-valued (logistic).",
        ),
        State(
            "features",
            on_enter=enter_features,
            on_event=on_features,
            next=("more",),
            help=COLUMNS_HELP,
        ),
        State(
            "more",
            on_enter=enter_more,
            on_event=on_more,
            next=("analysis", "more"),
            help="*Another analysis* on the same data, or *Done*; after a test, the other "
            "method (rank test or means test) reruns it.",
        ),
    ),
)
