"""/train's choices: the target, the features, the model, and the confirmation that starts the
training job (:mod:`statbot.workflows.training`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from statbot.engine.events import EventKind
from statbot.engine.replies import Option, Reply
from statbot.engine.workflow import Context
from statbot.errors import StatbotError
from statbot.workflows import data as D
from statbot.workflows import steps as M
from statbot.workflows.choose import NoMatch, resolve_many, resolve_one
from statbot.workflows.session_data import TrainData, required
from statbot.workflows.train_data import data
from statbot.workflows.training import submit_training

if TYPE_CHECKING:
    from statbot.workflows.services import Services

TRAIN_IT, CHANGE, TUNE = "train", "change", "tune"
TRAIN_WORDS = frozenset({TRAIN_IT, "yes", "go", "ok"})
TUNE_WORDS = frozenset({TUNE, "train and tune", "tuned", "tuning"})
CLASSIFICATION_MODELS = (
    "auto",
    "random_forest",
    "extra_trees",
    "hist_gradient_boosting",
    "logistic",
    "knn",
    "svm",
)


# target, features, model ---------------------------------------------------------------------
async def enter_target(ctx: Context) -> None:
    d = data(ctx)
    dataset = d.loaded
    wanted = d.intent.get("target")
    if wanted and not ctx.reprompt:
        found = resolve_one(wanted, D.column_options(dataset.columns), "column")
        if isinstance(found, Option):
            d.target = found.id
            ctx.reply(f"Target: *{found.id}*.")
            ctx.goto("features")
            return
        ctx.reply(found.message)
    ctx.reply(
        Reply.ask(
            "Which column should the model predict (the target)?",
            D.column_options(dataset.columns, dataset.kinds),
            page_size=8,
        )
    )


async def on_target(ctx: Context) -> None:
    d = data(ctx)
    picked = M.pick_one(ctx, D.column_options(d.loaded.columns))
    if picked is None:
        return
    kind = d.loaded.kinds.get(picked, "")
    if kind in ("identifier", "text", "free_text"):
        ctx.reply(
            f"'{picked}' looks like {kind.replace('_', ' ')}; predicting it is rarely "
            "useful, but I'll go ahead."
        )
    d.target = picked
    ctx.goto("features")


def _feature_columns(d: TrainData) -> list[str]:
    return [c for c in d.loaded.columns if c != d.target]


async def enter_features(ctx: Context) -> None:
    d = data(ctx)
    columns = _feature_columns(d)
    if d.intent and not ctx.reprompt:  # /back re-prompts, so the user can still change them
        chosen = resolve_many(d.intent.get("features", "all"), D.column_options(columns), "column")
        if not isinstance(chosen, NoMatch) and chosen:
            d.features = [o.id for o in chosen]
            shown = ", ".join(d.features[:8])
            ctx.reply(f"Features: {shown}" + (" …" if len(chosen) > 8 else "") + ".")
            ctx.goto("model")
            return
        if isinstance(chosen, NoMatch):
            ctx.reply(chosen.message)
    if d.features is None:
        d.features = columns
    ctx.reply(
        Reply.ask(
            f"Which columns should it learn from? All {len(columns)} others are ticked; untick "
            "what should not be used, then Done. Or type `all`, `all except a, b`, or a list.",
            D.column_options(columns, d.loaded.kinds),
            multi=True,
            selected=tuple(d.features),
        )
    )


async def on_features(ctx: Context) -> None:
    d = data(ctx)
    if d.features is None:
        d.features = []
    selected = await M.multi_select(ctx, D.column_options(_feature_columns(d)), d.features)
    if selected is None:
        return
    if not selected:
        ctx.reply("Choose at least one column to learn from.")
        return
    d.features = selected
    ctx.goto("model")


def _model_options(task: str | None) -> list[Option]:
    from statbot.analysis.ml.estimators import MODELS, models_for

    names = models_for(task) if task else list(MODELS)  # type: ignore[arg-type]
    return [Option("auto", "auto (compare several)")] + [Option(n, MODELS[n].label) for n in names]


async def enter_model(ctx: Context) -> None:
    d = data(ctx)
    task = d.task
    if task is None and not d.deferred:
        task = await ctx.run_blocking(
            _detect_task, D.services(ctx), d.loaded, required(d.target, "the target")
        )
        d.task = task
    wanted = d.intent.get("model")
    if wanted and not ctx.reprompt:
        from statbot.analysis.ml.estimators import resolve_model_name

        try:
            name = resolve_model_name(wanted)
        except StatbotError as exc:
            ctx.reply(exc.user_message)
        else:
            if name in {o.id for o in _model_options(task)}:
                d.model = name
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


def _detect_task(svc: Services, dataset: D.Loaded, target: str) -> str:
    from statbot.analysis.ml.pipeline import detect_task

    frame = D.read_frame(svc, dataset.ref)
    return str(detect_task(frame[target]))


async def on_model(ctx: Context) -> None:
    from statbot.analysis.ml.estimators import resolve_model_name

    options = _model_options(data(ctx).task)
    if ctx.event.kind is EventKind.CHOICE:
        name = ctx.event.choice
    else:
        found = resolve_one(ctx.event.text, options, "model")
        name = found.id if isinstance(found, Option) else resolve_model_name(ctx.event.text)
    if name not in {o.id for o in options}:
        labels = ", ".join(o.label for o in options)
        ctx.reply(f"That model does not fit this task. Choose one of: {labels}.")
        return
    data(ctx).model = name
    ctx.goto("confirm")


# confirm and train ---------------------------------------------------------------------------
async def enter_confirm(ctx: Context) -> None:
    d = data(ctx)
    features = required(d.features, "the features")
    shown = ", ".join(features[:8]) + (
        f" and {len(features) - 8} more" if len(features) > 8 else ""
    )
    model = _label(required(d.model, "the model"))
    from statbot.analysis.ml.tuning import DEFAULT_TUNE_BUDGET_S, MAX_TRIALS

    ctx.reply(
        Reply.ask(
            f"Ready to train *{model}* to predict *{d.target}* from {shown}, "
            "with 5-fold cross-validation and a 20% holdout. *Train and tune* also tries up "
            f"to {MAX_TRIALS} settings of its hyper-parameters within "
            f"{DEFAULT_TUNE_BUDGET_S:g} s, on the same folds, and keeps the best.",
            [
                Option(TRAIN_IT, "Train"),
                Option(CHANGE, "Change the model"),
                Option(TUNE, "Train and tune"),
            ],
        )
    )


async def on_confirm(ctx: Context) -> None:
    answer = ctx.event.choice or ctx.event.text.strip().lower().rstrip("!.")
    if answer in (CHANGE, "change the model"):
        ctx.goto("model")
        return
    if answer not in TRAIN_WORDS | TUNE_WORDS:
        ctx.reply(
            "Press *Train* to start, *Train and tune* to search its settings too, or "
            "*Change the model*."
        )
        return
    data(ctx).tune = answer in TUNE_WORDS
    await submit_training(ctx)


def _label(model: str) -> str:
    from statbot.analysis.ml.estimators import MODELS

    spec = MODELS.get(model)
    return spec.label if spec is not None else model
