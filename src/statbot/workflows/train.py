"""/train: data → (server path: load now or defer with a manual schema) → schema → target →
features → model → confirm → training job with a progress bar → report → model saved.

Training runs as a job (its own subprocess), never in the event loop. Its progress and its end
come back as engine events to the ``training`` state. The job's idempotency key derives from
the event that confirmed it, so a duplicated or replayed update can never train twice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from statbot.engine.events import EventKind
from statbot.engine.replies import DONE_OPTION, Option, Reply
from statbot.engine.workflow import Context, State, Workflow
from statbot.errors import StatbotError
from statbot.workflows import data as D
from statbot.workflows.choose import NoMatch, resolve_many, resolve_one
from statbot.workflows.training import (
    enter_failed,
    enter_training,
    on_cancel,
    on_failed,
    on_training,
    submit_training,
)

LOAD_NOW, DEFER = "load_now", "defer"
OK, TRAIN_IT, CHANGE = "ok", "train", "change"
CLASSIFICATION_MODELS = (
    "auto",
    "random_forest",
    "extra_trees",
    "hist_gradient_boosting",
    "logistic",
    "knn",
    "svm",
)


# data ----------------------------------------------------------------------------------------
async def on_data(ctx: Context) -> None:
    got = await D.receive(ctx)
    if isinstance(got, Path):
        ctx.data["path"] = str(got)
        ctx.goto("path_mode")
    elif got is not None and _enough_columns(ctx, got):
        D.remember(ctx, got)
        ctx.data["schema_text"] = got.schema_text
        ctx.goto("schema")


def _enough_columns(ctx: Context, loaded: D.Loaded) -> bool:
    """A model needs a target and at least one column to learn from."""
    if len(loaded.columns) >= 2:
        return True
    ctx.reply(
        f"*{loaded.name}* has only one column ({', '.join(loaded.columns) or 'none'}); a model "
        "needs a column to predict and at least one to learn from. Send a file with more columns."
    )
    return False


def _intent(ctx: Context) -> dict[str, str]:
    """What a one-shot request ("train a random forest to predict price") already said."""
    intent: dict[str, str] = ctx.data.get("intent") or {}
    return intent


async def enter_data(ctx: Context) -> None:
    if ctx.reprompt:
        D.ask_for_data(ctx, "Let's train a model. " + D.ASK_DATA)
        return
    if ctx.event.kind is EventKind.UPLOAD:  # the request came as a file's caption
        await on_data(ctx)
        return
    if D.use_last_for_intent(ctx):
        ctx.goto("schema")
        return
    D.ask_for_data(ctx, "Let's train a model. " + D.ASK_DATA)


async def enter_path_mode(ctx: Context) -> None:
    ctx.reply(
        Reply.ask(
            f"`{ctx.data['path']}` — load it now, or defer loading until training (then you "
            "describe its columns yourself, e.g. `price:float, city:category, id:ignore`)?",
            [Option(LOAD_NOW, "Load now"), Option(DEFER, "Defer loading")],
        )
    )


async def on_path_mode(ctx: Context) -> None:
    answer = ctx.event.choice or ctx.event.text.strip().lower()
    if answer in (LOAD_NOW, "load now", "now", "load"):
        loaded = await D.load_server_file(ctx, Path(ctx.data["path"]))
        if not _enough_columns(ctx, loaded):
            return
        D.remember(ctx, loaded)
        ctx.data["schema_text"] = loaded.schema_text
        ctx.goto("schema")
    elif answer in (DEFER, "defer", "defer loading", "later"):
        ctx.goto("spec")
    else:
        ctx.reply("Please choose *Load now* or *Defer loading*.")


async def on_spec(ctx: Context) -> None:
    from statbot.analysis.io.schema import parse_schema_spec

    spec = await ctx.run_blocking(parse_schema_spec, ctx.event.text)
    columns = [name for name, kind in spec.columns if kind != "ignore"]
    ctx.data["deferred"] = {"path": ctx.data["path"], "spec": ctx.event.text.strip()}
    ctx.data["dataset"] = {
        "ref": {},
        "name": Path(ctx.data["path"]).name,
        "rows": 0,
        "columns": columns,
        "kinds": {name: kind for name, kind in spec.columns if kind != "ignore"},
    }
    ctx.reply(f"Understood {len(columns)} columns; the file is read when training starts.")
    ctx.goto("target")


# schema --------------------------------------------------------------------------------------
async def enter_schema(ctx: Context) -> None:
    dataset = ctx.data["dataset"]
    if not ctx.data.get("schema_text"):
        ctx.data["schema_text"] = await ctx.run_blocking(
            D.preview_overrides, D.services(ctx), dataset, {}
        )
    ctx.reply(
        Reply.ask(
            f"{D.summary_line(dataset)} Column types as I read them:\n`{ctx.data['schema_text']}`\n"
            'Correct one by typing e.g. "treat zip as category", or go on.',
            [Option(OK, "Looks right")],
        )
    )


async def on_schema(ctx: Context) -> None:
    if ctx.event.choice == OK or ctx.event.text.strip().lower() in (
        "ok",
        "yes",
        "looks right",
    ):
        overrides = ctx.data.get("overrides") or {}
        if overrides:
            svc = D.services(ctx)
            loaded = await ctx.run_blocking(
                D.store_with_overrides, svc, ctx.session.user_id, ctx.data["dataset"], overrides
            )
            D.remember(ctx, loaded)
        ctx.goto("target")
        return
    parsed = D.parse_override(ctx.event.text)
    if parsed is None:
        ctx.reply('Type a correction like "treat zip as category", or press *Looks right*.')
        return
    column, kind = parsed
    options = D.column_options(ctx.data["dataset"]["columns"])
    found = resolve_one(column, options, "column")
    if isinstance(found, NoMatch):
        ctx.reply(found.message)
        return
    overrides = {**(ctx.data.get("overrides") or {}), found.id: kind}
    svc = D.services(ctx)
    ctx.data["schema_text"] = await ctx.run_blocking(
        D.preview_overrides, svc, ctx.data["dataset"], overrides
    )
    ctx.data["overrides"] = overrides
    ctx.reply(f"OK: '{found.id}' will be treated as {kind}.")
    await enter_schema(ctx)


# target, features, model ---------------------------------------------------------------------
async def enter_target(ctx: Context) -> None:
    dataset = ctx.data["dataset"]
    wanted = _intent(ctx).get("target")
    if wanted and not ctx.reprompt:
        found = resolve_one(wanted, D.column_options(dataset["columns"]), "column")
        if isinstance(found, Option):
            ctx.data["target"] = found.id
            ctx.reply(f"Target: *{found.id}*.")
            ctx.goto("features")
            return
        ctx.reply(found.message)
    ctx.reply(
        Reply.ask(
            "Which column should the model predict (the target)?",
            D.column_options(dataset["columns"], dataset.get("kinds")),
            page_size=8,
        )
    )


async def on_target(ctx: Context) -> None:
    columns = ctx.data["dataset"]["columns"]
    options = D.column_options(columns)
    picked = _pick_one(ctx, options, "column")
    if picked is None:
        return
    kind = (ctx.data["dataset"].get("kinds") or {}).get(picked, "")
    if kind in ("identifier", "text", "free_text"):
        ctx.reply(
            f"'{picked}' looks like {kind.replace('_', ' ')}; predicting it is rarely "
            "useful, but I'll go ahead."
        )
    ctx.data["target"] = picked
    ctx.goto("features")


async def enter_features(ctx: Context) -> None:
    columns = [c for c in ctx.data["dataset"]["columns"] if c != ctx.data["target"]]
    intent = _intent(ctx)
    if intent and not ctx.reprompt:  # /back re-prompts, so the user can still change them
        chosen = resolve_many(intent.get("features", "all"), D.column_options(columns), "column")
        if not isinstance(chosen, NoMatch) and chosen:
            ctx.data["features"] = [o.id for o in chosen]
            shown = ", ".join(ctx.data["features"][:8])
            ctx.reply(f"Features: {shown}" + (" …" if len(chosen) > 8 else "") + ".")
            ctx.goto("model")
            return
        if isinstance(chosen, NoMatch):
            ctx.reply(chosen.message)
    selected = ctx.data.setdefault("features", columns)
    ctx.reply(
        Reply.ask(
            f"Which columns should it learn from? All {len(columns)} others are ticked; untick "
            "what should not be used, then Done. Or type `all`, `all except a, b`, or a list.",
            D.column_options(columns, ctx.data["dataset"].get("kinds")),
            multi=True,
            selected=tuple(selected),
        )
    )


async def on_features(ctx: Context) -> None:
    columns = [c for c in ctx.data["dataset"]["columns"] if c != ctx.data["target"]]
    options = D.column_options(columns)
    selected: list[str] = list(ctx.data.get("features") or [])
    event = ctx.event
    if event.kind is EventKind.CHOICE and event.choice != DONE_OPTION:
        if event.choice in selected:
            selected.remove(event.choice)
        elif event.choice in columns:
            selected.append(event.choice)
        ctx.data["features"] = [c for c in columns if c in selected]
        ctx.reply(
            Reply.ask(
                f"{len(selected)} of {len(columns)} columns selected.",
                options,
                multi=True,
                selected=tuple(ctx.data["features"]),
            )
        )
        return
    if event.kind is EventKind.TEXT and event.text.strip().lower() not in ("done", "ok"):
        chosen = resolve_many(event.text, options, "column")
        if isinstance(chosen, NoMatch):
            ctx.reply(chosen.message)
            return
        selected = [o.id for o in chosen]
    if not selected:
        ctx.reply("Choose at least one column to learn from.")
        return
    ctx.data["features"] = [c for c in columns if c in selected]
    ctx.goto("model")


def _model_options(task: str | None) -> list[Option]:
    from statbot.analysis.ml.models import MODELS, models_for

    names = models_for(task) if task else list(MODELS)  # type: ignore[arg-type]
    return [Option("auto", "auto (compare several)")] + [Option(n, MODELS[n].label) for n in names]


async def enter_model(ctx: Context) -> None:
    task = ctx.data.get("task")
    if task is None and not ctx.data.get("deferred"):
        task = await ctx.run_blocking(
            _detect_task, D.services(ctx), ctx.data["dataset"], ctx.data["target"]
        )
        ctx.data["task"] = task
    wanted = _intent(ctx).get("model")
    if wanted and not ctx.reprompt:
        from statbot.analysis.ml.models import resolve_model_name

        try:
            name = resolve_model_name(wanted)
        except StatbotError as exc:
            ctx.reply(exc.user_message)
        else:
            if name in {o.id for o in _model_options(task)}:
                ctx.data["model"] = name
                ctx.goto("confirm")
                return
            ctx.reply(f"{_label(name)} does not fit a {task} problem; choose another model.")
    ctx.reply(
        Reply.ask(
            (f"This is a *{task}* problem. " if task else "") + "Which model? *auto* compares "
            "several by cross-validation and keeps the best.",
            _model_options(task),
        )
    )


def _detect_task(svc: Any, dataset: dict[str, Any], target: str) -> str:
    from statbot.analysis.ml.pipeline import detect_task

    frame = D.read_frame(svc, dataset["ref"])
    return str(detect_task(frame[target]))


async def on_model(ctx: Context) -> None:
    from statbot.analysis.ml.models import resolve_model_name

    options = _model_options(ctx.data.get("task"))
    if ctx.event.kind is EventKind.CHOICE:
        name = ctx.event.choice
    else:
        found = resolve_one(ctx.event.text, options, "model")
        name = found.id if isinstance(found, Option) else resolve_model_name(ctx.event.text)
    if name not in {o.id for o in options}:
        labels = ", ".join(o.label for o in options)
        ctx.reply(f"That model does not fit this task. Choose one of: {labels}.")
        return
    ctx.data["model"] = name
    ctx.goto("confirm")


# confirm and train ---------------------------------------------------------------------------
async def enter_confirm(ctx: Context) -> None:
    d = ctx.data
    features = d["features"]
    shown = ", ".join(features[:8]) + (
        f" and {len(features) - 8} more" if len(features) > 8 else ""
    )
    ctx.reply(
        Reply.ask(
            f"Ready to train *{_label(d['model'])}* to predict *{d['target']}* from {shown}, "
            "with 5-fold cross-validation and a 20% holdout.",
            [Option(TRAIN_IT, "Train"), Option(CHANGE, "Change the model")],
        )
    )


async def on_confirm(ctx: Context) -> None:
    answer = ctx.event.choice or ctx.event.text.strip().lower()
    if answer in (CHANGE, "change", "change the model"):
        ctx.goto("model")
        return
    if answer not in (TRAIN_IT, "train", "yes", "go", "ok"):
        ctx.reply("Press *Train* to start, or *Change the model*.")
        return
    await submit_training(ctx)


def _label(model: str) -> str:
    from statbot.analysis.ml.models import MODELS

    spec = MODELS.get(model)
    return spec.label if spec is not None else model


def _pick_one(ctx: Context, options: list[Option], noun: str) -> str | None:
    event = ctx.event
    if event.kind is EventKind.CHOICE:
        if event.choice in {o.id for o in options}:
            return event.choice
        ctx.reply(f"Please choose a {noun}.")
        return None
    found = resolve_one(event.text, options, noun)
    if isinstance(found, NoMatch):
        ctx.reply(found.message)
        return None
    return found.id


TRAIN = Workflow(
    name="train",
    command="train",
    description="train a model to predict a column",
    start="data",
    on_cancel=on_cancel,
    states=(
        State(
            "data",
            on_enter=enter_data,
            on_event=on_data,
            next=("path_mode", "schema"),
            accepts=frozenset({EventKind.TEXT, EventKind.CHOICE, EventKind.UPLOAD}),
            help="Upload a data file (or type a server path). One row per example, one "
            "column per variable, with a header row.",
        ),
        State(
            "path_mode",
            on_enter=enter_path_mode,
            on_event=on_path_mode,
            next=("schema", "spec"),
            help="Load now reads the file and shows its columns; Defer reads it only when "
            "training starts and you describe the columns yourself.",
        ),
        State(
            "spec",
            prompt="Describe the columns like `price:float, city:category, "
            "date:datetime, id:ignore` (types: float, int, bool, category, datetime, text, "
            "ignore).",
            on_event=on_spec,
            next=("target",),
            help="One `name:type` per column, comma-separated.",
        ),
        State(
            "schema",
            on_enter=enter_schema,
            on_event=on_schema,
            next=("target",),
            help='Check the column types. Type e.g. "treat zip as category" to correct one.',
        ),
        State(
            "target",
            on_enter=enter_target,
            on_event=on_target,
            next=("features",),
            help="The target is the column to predict: a number (regression) or a category "
            "(classification). Type its name or press its button.",
        ),
        State(
            "features",
            on_enter=enter_features,
            on_event=on_features,
            next=("model",),
            help="Tick the columns the model may use, then Done; or type `all`, "
            "`all except a, b`, or a list.",
        ),
        State(
            "model",
            on_enter=enter_model,
            on_event=on_model,
            next=("confirm",),
            help='Pick a model or type its name ("random forest", "logistic"…); *auto* '
            "tries several and keeps the best.",
        ),
        State(
            "confirm",
            on_enter=enter_confirm,
            on_event=on_confirm,
            next=("training", "model"),
            help="Press Train to start; /back changes earlier choices.",
        ),
        State(
            "training",
            on_enter=enter_training,
            on_event=on_training,
            next=("done", "failed"),
            accepts=frozenset(EventKind) - {EventKind.COMMAND},
            help="The model is training in the background. /cancel stops it.",
        ),
        State(
            "failed",
            on_enter=enter_failed,
            on_event=on_failed,
            next=("training", "model"),
            help="The training did not finish. Retry runs it again with the same choices.",
        ),
        State(
            "done",
            prompt="Use /predict to apply the model to new data, /models to see it.",
            final=True,
        ),
    ),
)
