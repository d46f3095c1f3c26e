"""Declared steps the analysis conversations share: pick one column, or tick several.

Both accept the button or typed text (DESIGN.md "Chat"): a name, a number from the list, `all`,
`all except a, b` or a list; a name that matches nothing gets the closest suggestion.
"""

from __future__ import annotations

from statbot.engine.events import EventKind
from statbot.engine.replies import DONE_OPTION, Option, Reply
from statbot.engine.workflow import Context
from statbot.workflows.choose import NoMatch, norm, resolve_many, resolve_one

TYPE_HINT = " Or type `all`, `all except a, b`, or a list."


def multi_menu(ctx: Context, options: list[Option], text: str, key: str = "selected") -> Reply:
    """Toggles for ``options``, ticked as ``ctx.data[key]`` says, with a Done button."""
    return Reply.ask(text + TYPE_HINT, options, multi=True, selected=tuple(ctx.data.get(key) or ()))


async def multi_select(
    ctx: Context, options: list[Option], key: str = "selected"
) -> list[str] | None:
    """Handle a toggle, Done, or a typed list at a multi-select step; the ticks live in
    ``ctx.data[key]``.

    Returns the chosen ids (in the options' order) when the user is done, or None when the menu
    stays open (a toggle was shown again, or a typed name matched nothing and was explained).
    """
    event = ctx.event
    ids = [o.id for o in options]
    selected = list(ctx.data.get(key) or [])
    if event.kind is EventKind.CHOICE and event.choice != DONE_OPTION:
        if event.choice in selected:
            selected.remove(event.choice)
        elif event.choice in ids:
            selected.append(event.choice)
        ctx.data[key] = [c for c in ids if c in selected]
        ctx.reply(multi_menu(ctx, options, f"{len(selected)} of {len(ids)} selected.", key))
        return None
    if event.kind is EventKind.TEXT and norm(event.text) not in ("done", "ok"):
        chosen = resolve_many(event.text, options, "column")
        if isinstance(chosen, NoMatch):
            ctx.reply(chosen.message)
            return None
        selected = [o.id for o in chosen]
    return [c for c in ids if c in selected]


def pick_one(ctx: Context, options: list[Option], none_id: str | None = None) -> str | None:
    """The option a button or typed text names; None after telling the user what is wrong.
    ``none_id``: the option that typed "none" / "no" chooses."""
    event = ctx.event
    if event.kind is EventKind.CHOICE:
        if event.choice in {o.id for o in options}:
            return event.choice
        ctx.reply("Please choose one of the buttons above.")
        return None
    if none_id is not None and norm(event.text) in ("none", "nothing", "no"):
        return none_id
    found = resolve_one(event.text, options, "column")
    if isinstance(found, NoMatch):
        ctx.reply(found.message)
        return None
    return found.id
