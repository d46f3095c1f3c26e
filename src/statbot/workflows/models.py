"""/models: the user's models, newest first → a model's card (task, target, features, metrics,
created, library versions) → rename, delete (confirmed), or download the model file and its card.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from statbot.engine.events import EventKind
from statbot.engine.replies import Option, Reply
from statbot.engine.workflow import Context, State, Workflow
from statbot.workflows import data as D
from statbot.workflows import steps as M
from statbot.workflows.choose import norm, resolve_one
from statbot.workflows.report import fmt
from statbot.workflows.session_data_plain import ModelsData

if TYPE_CHECKING:
    from statbot.workflows.services import Services

RENAME, DELETE, DOWNLOAD, LIST = "rename", "delete", "download", "list"
YES, NO = "yes", "no"
CARD_ACTIONS = (
    Option(RENAME, "Rename"),
    Option(DELETE, "Delete"),
    Option(DOWNLOAD, "Download"),
    Option(LIST, "Back to list"),
)
MAX_NAME = 60
_UNSAFE = re.compile(r"[^\w.-]+")


def newest_first(svc: Services, user_id: int) -> list[Any]:
    """The user's model cards, newest first (blocking: reads the cards)."""
    return list(reversed(svc.models.list(user_id)))


def by_name(cards: list[Any]) -> list[Option]:
    """The models as typed answers know them: by name (or the start of the id)."""
    return [Option(c.model_id, c.name) for c in cards]


def _options(cards: list[Any]) -> list[Option]:
    return [Option(c.model_id, f"{c.name} — {c.target} ({c.created_at[:10]})") for c in cards[:30]]


# the list -----------------------------------------------------------------------------------------
async def enter_list(ctx: Context) -> None:
    cards = await ctx.run_blocking(newest_first, D.services(ctx), ctx.session.user_id)
    if not cards:
        ctx.reply("You have no models yet — /train one.")
        ctx.finish()
        return
    count = f"{len(cards)} model{'s' if len(cards) > 1 else ''}"
    ctx.reply(Reply.ask(f"Your models ({count}, newest first):", _options(cards)))


async def on_list(ctx: Context) -> None:
    cards = await ctx.run_blocking(newest_first, D.services(ctx), ctx.session.user_id)
    event = ctx.event
    if event.kind is EventKind.CHOICE:
        picked = event.choice if event.choice in {c.model_id for c in cards} else None
        if picked is None:
            ctx.reply("That model is no longer there.")
            await enter_list(ctx)
            return
    else:
        picked = M.pick_one(ctx, _options(cards), noun="model", typed=by_name(cards))
        if picked is None:
            return
    ctx.typed(ModelsData).model_id = picked
    ctx.goto("card")


# one model ----------------------------------------------------------------------------------------
def card_text(card: Any) -> str:
    from statbot.analysis.ml import wording

    as_dict = card.to_dict()
    features = [f.name for f in card.features]
    shown = ", ".join(features[:10]) + (
        f" and {len(features) - 10} more" if len(features) > 10 else ""
    )
    lines = [
        f"*{card.name}* (id `{card.model_id}`)",
        f"Task: {card.task}, model: {wording.model_label(as_dict)}",
        f"Target: *{card.target}*"
        + (f" (classes: {', '.join(card.classes[:8])})" if card.classes else ""),
        f"Features ({len(features)}): {shown}",
    ]
    cv = (card.metrics or {}).get("cv") or {}
    if card.primary_metric in cv:
        values = cv[card.primary_metric]
        lines.append(
            f"Cross-validated {wording.metric_label(card.primary_metric)}: "
            f"{fmt(values.get('mean'))} ± {fmt(values.get('std'))}"
        )
    baseline = wording.baseline_sentence(as_dict)
    if baseline:
        lines.append(baseline)
    holdout = (card.metrics or {}).get("holdout") or {}
    if holdout:
        lines.append(
            "Holdout: "
            + ", ".join(f"{wording.metric_label(k)} {fmt(v)}" for k, v in holdout.items())
        )
    lines.append(f"Trained on {card.n_rows:,} rows; created {card.created_at}")
    versions = ", ".join(f"{k} {v}" for k, v in sorted((card.versions or {}).items()))
    if versions:
        lines.append(f"Versions: {versions}")
    return "\n".join(lines)


async def _card(ctx: Context) -> Any:
    svc = D.services(ctx)
    model_id = ctx.typed(ModelsData).open_id
    return await ctx.run_blocking(svc.models.get_card, ctx.session.user_id, model_id)


async def enter_card(ctx: Context) -> None:
    card = await _card(ctx)
    ctx.memory["model"] = {"id": card.model_id, "name": card.name}
    ctx.reply(Reply.ask(card_text(card), CARD_ACTIONS))


async def on_card(ctx: Context) -> None:
    answer = ctx.event.choice or norm(ctx.event.text)
    found = resolve_one(answer, CARD_ACTIONS, "action") if answer else None
    action = found.id if isinstance(found, Option) else None
    if action == RENAME:
        ctx.goto("rename")
    elif action == DELETE:
        ctx.goto("confirm_delete")
    elif action == LIST or answer in ("back", "list"):
        ctx.goto("list")
    elif action == DOWNLOAD:
        card = await _card(ctx)
        path = D.services(ctx).models.path_of(ctx.session.user_id, card.model_id)
        stem = _UNSAFE.sub("_", card.name).strip("_") or card.model_id
        ctx.reply(
            Reply.document(str(path), f"{stem}.skops", "The model (skops format)."),
            Reply.document(
                str(path.with_suffix(".json")), f"{stem}.json", "Its card: what it needs, metrics."
            ),
            Reply.ask("Anything else with this model?", CARD_ACTIONS),
        )
    else:
        ctx.reply(Reply.ask("Choose what to do with this model:", CARD_ACTIONS))


async def on_rename(ctx: Context) -> None:
    if ctx.event.kind is not EventKind.TEXT:
        ctx.reply("Type the new name as a message (or /back).")
        return
    name = " ".join(ctx.event.text.split())
    if not name or len(name) > MAX_NAME:
        ctx.reply(f"A name needs 1 to {MAX_NAME} characters; type another.")
        return
    svc = D.services(ctx)
    model_id = ctx.typed(ModelsData).open_id
    card = await ctx.run_blocking(svc.models.rename, ctx.session.user_id, model_id, name)
    ctx.reply(f'Renamed to "{card.name}".')
    ctx.goto("card")


async def enter_confirm_delete(ctx: Context) -> None:
    card = await _card(ctx)
    ctx.reply(
        Reply.ask(
            f'Delete "{card.name}" for good? It cannot be undone.',
            [Option(YES, "Yes, delete it"), Option(NO, "No, keep it")],
        )
    )


async def on_confirm_delete(ctx: Context) -> None:
    answer = ctx.event.choice or norm(ctx.event.text)
    if answer in (YES, "yes, delete it", "delete", "y"):
        svc = D.services(ctx)
        data = ctx.typed(ModelsData)
        model_id, data.model_id = data.open_id, None
        await ctx.run_blocking(svc.models.delete, ctx.session.user_id, model_id)
        if svc.access is not None:  # the audit log records deletions (issue 12)
            await svc.access.model_deleted(ctx.session.user_id, model_id)
        if (ctx.memory.get("model") or {}).get("id") == model_id:
            ctx.memory.pop("model", None)
        ctx.reply("Deleted.")
        ctx.goto("list")
    elif answer in (NO, "no, keep it", "keep", "n"):
        ctx.reply("Kept.")
        ctx.goto("card")
    else:
        ctx.reply("Please answer *Yes, delete it* or *No, keep it*.")


MODELS = Workflow(
    name="models",
    command="models",
    description="your models: view, rename, delete, download",
    start="list",
    data=ModelsData.from_dict,
    states=(
        State(
            "list",
            on_enter=enter_list,
            on_event=on_list,
            next=("card",),
            help="Choose a model by its button, its name, or the start of its id.",
        ),
        State(
            "card",
            on_enter=enter_card,
            on_event=on_card,
            next=("rename", "confirm_delete", "list"),
            help="Rename, delete or download this model, or go back to the list.",
        ),
        State(
            "rename",
            prompt="Type the new name.",
            on_event=on_rename,
            next=("card",),
            help=f"Send the model's new name (up to {MAX_NAME} characters).",
        ),
        State(
            "confirm_delete",
            on_enter=enter_confirm_delete,
            on_event=on_confirm_delete,
            next=("list", "card"),
            help="Deleting removes the model file and its card.",
        ),
    ),
)
