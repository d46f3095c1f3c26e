"""The "What does this mean?" button beside every result the bot sends (issue 13).

A result (a test, a regression, a model report) is followed by one small menu whose button is
the command ``/kb_get <id> <id> ...`` for the entries that explain the measures the result
shows (:func:`statbot.kb.measures.entries_in` reads them off the result's own text). The engine
runs a command button from any menu, old or current, in any state (engine/dispatch.py), so the
workflow that sent the result needs no handler for it, and the button still works after that
workflow has ended.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from statbot.engine.replies import Option, Reply, ReplyKind
from statbot.engine.workflow import Context
from statbot.kb.measures import entries_in
from statbot.workflows.data import services

if TYPE_CHECKING:
    from statbot.kb import KnowledgeBase

LABEL = "What does this mean?"
MAX_ENTRIES = 8


def explain_command(entry_ids: Iterable[str]) -> str:
    return "/kb_get " + " ".join(entry_ids)


def explain_reply(kb: KnowledgeBase, replies: Iterable[Reply | str]) -> list[Reply]:
    """The button for the measures the texts of ``replies`` show ([] when they show none the
    knowledge base explains); a chart counts by its caption."""
    text = "\n".join(
        r if isinstance(r, str) else r.text
        for r in replies
        if isinstance(r, str) or r.kind in (ReplyKind.TEXT, ReplyKind.CHOICES, ReplyKind.IMAGE)
    )
    entries = [e for e in (kb.get(i) for i in entries_in(text, limit=MAX_ENTRIES)) if e]
    if not entries:
        return []
    names = ", ".join(e.title for e in entries)
    option = Option(explain_command(e.id for e in entries), LABEL)
    return [Reply.ask(f"In plain words: {names}.", [option])]


async def explain_after(ctx: Context, replies: Iterable[Reply]) -> None:
    """Send the button after a result's ``replies`` (the knowledge base is loaded off the event
    loop on first use) and remember its entries, so that a later "what does this mean?" typed
    on its own explains the same result."""
    svc = services(ctx)
    kb = await ctx.run_blocking(lambda: svc.kb)
    button = explain_reply(kb, replies)
    if button:
        ctx.memory["explain"] = button[0].options[0].id.split()[1:]
        ctx.reply(*button)
