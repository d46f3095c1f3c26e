"""A file sent while no conversation runs (issue 15): it was dropped with the command list, and
"analyze it" then asked for the data again. Now it is stored as the user's latest dataset, the
bot says what it is (rows × columns, the column types) and offers the next steps as buttons;
each starts that conversation on this dataset. The workflow has no command: the engine starts
it (``WorkflowRegistry(on_upload=...)``).
"""

from __future__ import annotations

from statbot.engine.events import EventKind
from statbot.engine.replies import Option, Reply
from statbot.engine.workflow import Context, State, Workflow
from statbot.workflows import data as D
from statbot.workflows.session_data import AnalysisData

NEXT = (
    Option("stats", "Statistics"),
    Option("explore", "Explore it"),
    Option("train", "Train a model"),
)
WORDS = {
    "stats": "stats",
    "statistics": "stats",
    "explore": "explore",
    "explore it": "explore",
    "train": "train",
    "train a model": "train",
}


async def enter_offer(ctx: Context) -> None:
    if ctx.event.kind is EventKind.UPLOAD and not ctx.reprompt:
        loaded = await D.receive_loaded(ctx)
        if loaded is None:
            ctx.finish()
            return
        ctx.reply(
            f"Got it — {D.summary_line(loaded)} Column types as I read them:\n"
            f"`{loaded.schema_text}`\nI keep it as your latest dataset."
        )
    ctx.reply(Reply.ask("What shall we do with it?", list(NEXT)))


async def on_offer(ctx: Context) -> None:
    answer = ctx.event.choice or WORDS.get(ctx.event.text.strip().lower().rstrip("."), "")
    if answer not in {o.id for o in NEXT}:
        labels = ", ".join(o.label for o in NEXT)
        ctx.reply(f"Choose one of: {labels} — or send a command such as /stats.")
        return
    ctx.switch(answer, {"dataset": "last"})


RECEIVED = Workflow(
    name="received",
    command="",
    description="a file sent outside a conversation",
    start="offer",
    data=AnalysisData.from_dict,
    states=(
        State(
            "offer",
            on_enter=enter_offer,
            on_event=on_offer,
            next=("offer",),
            help="Pick what to do with the file you sent, or send a command.",
        ),
    ),
)
