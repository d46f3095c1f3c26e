"""Small real workflows the engine tests drive, and helpers to build events."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from statbot.engine import (
    Context,
    ConversationKey,
    Event,
    EventKind,
    Option,
    Prerequisite,
    Reply,
    State,
    Workflow,
    WorkflowRegistry,
)

COLOURS = [Option("red", "Red"), Option("blue", "Blue")]


async def _name(ctx: Context) -> None:
    ctx.data["name"] = ctx.event.text.strip()
    ctx.goto("colour")


async def _ask_colour(ctx: Context) -> None:
    ctx.reply(Reply.ask(f"Favourite colour, {ctx.data.get('name', '?')}?", COLOURS))


async def _colour(ctx: Context) -> None:
    picked = ctx.event.choice or ctx.event.text.strip().lower()
    if picked not in {o.id for o in COLOURS}:
        ctx.reply("Please pick red or blue.")
        return
    ctx.data["colour"] = picked
    ctx.goto("confirm")


async def _ask_confirm(ctx: Context) -> None:
    ctx.reply(
        Reply.ask(
            f"{ctx.data['name']} likes {ctx.data['colour']}. Save?",
            [Option("yes", "Yes"), Option("no", "No")],
        )
    )


async def _confirm(ctx: Context) -> None:
    answer = ctx.event.choice or ctx.event.text.strip().lower()
    if answer == "yes":
        ctx.memory.setdefault("saved", []).append(dict(ctx.data))
        ctx.reply("Saved.")
        ctx.finish()
    elif answer == "no":
        ctx.goto("name")
    elif answer == "boom":
        raise RuntimeError("handler exploded")
    elif answer == "bad-goto":
        ctx.goto("nowhere")
    elif answer == "forget me":
        ctx.request_forget()
        ctx.reply("Forgetting you.")
    else:
        ctx.reply("Yes or no?")


def survey() -> Workflow:
    return Workflow(
        name="survey",
        command="survey",
        description="a short survey",
        start="name",
        states=(
            State(
                "name",
                prompt="What is your name?",
                help="Type your name.",
                on_event=_name,
                next=("colour",),
            ),
            State(
                "colour",
                on_enter=_ask_colour,
                on_event=_colour,
                next=("confirm",),
                help="Pick a colour.",
            ),
            State("confirm", on_enter=_ask_confirm, on_event=_confirm, next=("name",)),
        ),
    )


async def _count(ctx: Context) -> None:
    """Appends every text to a per-user log; used by the ordering/exactly-once properties."""
    ctx.data.setdefault("seen", []).append(ctx.event.text)
    ctx.memory["seen"] = list(ctx.data["seen"])
    ctx.reply(f"got {ctx.event.text}")


def counter() -> Workflow:
    return Workflow(
        name="counter",
        command="count",
        description="count what you say",
        start="counting",
        states=(State("counting", prompt="Say things.", on_event=_count, final=True),),
    )


def has_saved(session: Any) -> bool:
    return bool(session.context.get("saved"))


async def _review(ctx: Context) -> None:
    ctx.reply(f"You saved {len(ctx.memory['saved'])} answer(s).")
    ctx.finish()


def review() -> Workflow:
    return Workflow(
        name="review",
        command="review",
        description="review saved answers",
        start="show",
        requires=(Prerequisite(has_saved, "Nothing saved yet — run /survey first."),),
        states=(State("show", prompt="Reviewing.", on_event=_review, final=True),),
    )


def make_registry() -> WorkflowRegistry:
    return WorkflowRegistry([survey(), counter(), review()])


@pytest.fixture(scope="session")
def registry() -> WorkflowRegistry:
    return make_registry()


KEY = ConversationKey("test", 1, 1)
_ids = itertools.count(1000)


def make_event(
    kind: EventKind, key: ConversationKey = KEY, update_id: int | None = None, **fields: Any
) -> Event:
    uid = next(_ids) if update_id is None else update_id
    return Event.from_update(key, uid, kind, **fields)


@pytest.fixture(scope="session")
def ev() -> Callable[..., Event]:
    return make_event
