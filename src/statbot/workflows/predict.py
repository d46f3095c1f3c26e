"""/predict: choose a model (buttons, a typed name or id, or ``latest``) → data (upload, server
path, or the last dataset) → checked against the model's card, mismatches explained in words →
the rows back as a CSV document with the predictions (class probabilities, or a regressor's
interval) appended; scored when the data holds the target column."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from statbot.engine.events import EventKind
from statbot.engine.replies import Option, Reply
from statbot.engine.workflow import Context, State, Workflow
from statbot.workflows import data as D
from statbot.workflows import steps as M
from statbot.workflows.header import OTHER_ROW as HEADER_OTHER
from statbot.workflows.models import by_name, newest_first
from statbot.workflows.session_data import ChosenModel, PredictData

if TYPE_CHECKING:
    from statbot.workflows.services import Services

LATEST = "latest"
LATEST_WORDS = {w: LATEST for w in (LATEST, "last", "newest", "it")}


async def enter_model(ctx: Context) -> None:
    cards = await ctx.run_blocking(newest_first, D.services(ctx), ctx.session.user_id)
    if not cards:
        ctx.reply("You have no models yet. Train one with /train, then come back to /predict.")
        ctx.finish()
        return
    preset = ctx.typed(PredictData).intent.pop("model", None)
    if preset:
        picked = M.pick_typed(ctx, str(preset), by_name(cards), noun="model", words=LATEST_WORDS)
        if picked is not None:
            _choose(ctx, cards, picked)
            return
    options = [Option(LATEST, f"latest: {cards[0].name}")] + [
        Option(c.model_id, f"{c.name} ({c.model_id[:6]})") for c in cards[:20]
    ]
    ctx.reply(Reply.ask("Which model should predict?", options))


async def on_model(ctx: Context) -> None:
    cards = await ctx.run_blocking(newest_first, D.services(ctx), ctx.session.user_id)
    if not cards:  # deleted meanwhile (from another chat)
        ctx.reply("You have no models any more. Train one with /train, then come back.")
        ctx.finish()
        return
    if ctx.event.kind is EventKind.UPLOAD:
        if len(cards) == 1:  # the file comes first, and there is only one model to use
            ctx.reply(f"Using your model *{cards[0].name}*.")
            _choose(ctx, cards, cards[0].model_id)  # the data step takes the file on entry
            return
        ctx.reply(
            f"You have {len(cards)} models: pick the one to predict with first, then send "
            "the file again."
        )
        return
    buttons = [Option(LATEST, LATEST), *by_name(cards)]  # any of them, also beyond the 20 shown
    picked = M.pick_one(ctx, buttons, noun="model", typed=by_name(cards), words=LATEST_WORDS)
    if picked is not None:
        _choose(ctx, cards, picked)


def _choose(ctx: Context, cards: list[Any], picked: str) -> None:
    card = cards[0] if picked == LATEST else next(c for c in cards if c.model_id == picked)
    ctx.typed(PredictData).model = ChosenModel(
        id=card.model_id,
        name=card.name,
        features=[f.name for f in card.features],
        target=card.target,
    )
    ctx.goto("data")


def _ask_data(ctx: Context) -> str:
    model = ctx.typed(PredictData).chosen
    features = model.features
    shown = ", ".join(features[:10]) + (" …" if len(features) > 10 else "")
    return (
        f"Model *{model.name}* predicts *{model.target}* from: {shown}. "
        "Send the new data (upload a file or type a server path)."
    )


async def _predict_rows(ctx: Context, loaded: D.Loaded) -> None:
    from statbot.errors import ModelError

    svc = D.services(ctx)
    out_dir = svc.data_dir / "results" / str(ctx.session.user_id)
    target = out_dir / f"predictions-{ctx.event.event_id}.csv"
    model = ctx.typed(PredictData).chosen
    try:
        summary = await ctx.run_blocking(
            _predict, svc, ctx.session.user_id, model.id, loaded.ref, target
        )
    except ModelError as exc:
        if not loaded.rereadable or all(f in loaded.columns for f in model.features):
            raise
        # the names the model needs may be on another row than the one read as the header
        ctx.reply(Reply.ask(exc.user_message, [Option(HEADER_OTHER, "Header is on another row")]))
        return
    ctx.reply(summary["text"])
    ctx.reply(
        Reply.document(
            str(target),
            f"predictions_{Path(loaded.name).stem}.csv",
            "Your rows with the predictions appended.",
        )
    )
    ctx.memory["result"] = {"kind": "predictions", "path": str(target)}
    ctx.finish()


DATA = M.DataStep(
    prompt=_ask_data,
    on_loaded=_predict_rows,
    next=("done",),
    help="Send a file with the same columns the model was trained on (the target "
    "column is not needed; if it is there, the predictions are scored against it).",
)


def _predict(
    svc: Services, user_id: int, model_id: str, ref: dict[str, Any], target: Path
) -> dict[str, Any]:
    from statbot.analysis.ml.predict import predict_frame
    from statbot.analysis.ml.scoring import prediction_lines

    estimator, card = svc.models.load(user_id, model_id)
    frame = D.read_frame(svc, ref)
    result = predict_frame(estimator, card, frame)
    D.write_result(target, result.to_csv_bytes())
    # the sentences `statbot analyze predict` prints: summary, intervals, scores when the
    # file holds the target column
    notes = [f"Note: {w}" for w in result.warnings[:8]]
    return {"text": "\n".join([*prediction_lines(card, result), *notes])}


PREDICT = Workflow(
    name="predict",
    command="predict",
    description="predict new data with a trained model",
    start="model",
    data=PredictData.from_dict,
    states=(
        State(
            "model",
            on_enter=enter_model,
            on_event=on_model,
            next=("data",),
            accepts=M.DATA_KINDS,  # a file sent before the model is chosen (issue 11)
            help="Choose a model by its button, its name or id, or type `latest`.",
        ),
        *DATA.states(),
        State("done", final=True),
    ),
)
