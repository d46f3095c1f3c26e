"""/broadcast (admins, issue 12): a message to all users or to one role.

text → audience (all users, or a role; each with how many it reaches) → confirm (the count and
the message as it will read) → sent in the background by
:class:`statbot.access.broadcaster.Broadcaster`; the admin is told the final counts (sent,
blocked the bot, failed) when it has finished. ``/broadcast <text>`` skips the first question.

The broadcast is created from the confirming event, keyed by it: the same event replayed after a
crash finds its broadcast again instead of sending a second one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from statbot.access.broadcasts import ALL, ROLES
from statbot.access.roles import at_least, role_of
from statbot.engine.events import EventKind
from statbot.engine.replies import Option, Reply
from statbot.engine.workflow import Context, State, Workflow
from statbot.workflows import data as D
from statbot.workflows.choose import norm

if TYPE_CHECKING:
    from statbot.access.broadcaster import Broadcaster

MAX_TEXT = 3500  # one Telegram message (4096) with room for the markup
SEND, CANCEL = "send", "cancel"
LABELS = {ALL: "All users", "owner": "Owners", "admin": "Admins"} | {
    "analyst": "Analysts",
    "viewer": "Viewers",
}
NOT_ADMIN = "Only an admin can send a broadcast."
NOT_HERE = "Broadcasts are not available here (no catalog database)."


def _broadcaster(ctx: Context) -> Broadcaster | None:
    return D.services(ctx).broadcasts


def _users(n: int) -> str:
    return f"{n} user{'' if n == 1 else 's'}"


async def enter_text(ctx: Context) -> None:
    broadcaster = _broadcaster(ctx)
    if broadcaster is None:
        ctx.reply(NOT_HERE)
        ctx.finish()
        return
    # The role gate refuses /broadcast below admin already; this holds where no gate runs.
    svc = D.services(ctx)
    catalog = broadcaster.broadcasts.catalog
    role = await ctx.run_blocking(role_of, catalog, ctx.session.user_id, svc.settings)
    if not at_least(role, "admin"):
        ctx.reply(NOT_ADMIN)
        ctx.finish()
        return
    given = ctx.event.args.strip() if ctx.event.kind is EventKind.COMMAND else ""
    if given and _keep(ctx, given):
        ctx.goto("audience")
        return
    ctx.reply("Type the message to send to the users. /cancel stops.")


async def on_text(ctx: Context) -> None:
    if ctx.event.kind is not EventKind.TEXT:
        ctx.reply("Type the message as text (or /cancel).")
        return
    if _keep(ctx, ctx.event.text):
        ctx.goto("audience")


def _keep(ctx: Context, text: str) -> bool:
    text = text.strip()
    if not text or len(text) > MAX_TEXT:
        ctx.reply(f"A broadcast is 1 to {MAX_TEXT} characters; type it again.")
        return False
    ctx.data["text"] = text
    return True


async def _sizes(ctx: Context) -> dict[str, int]:
    broadcaster = _broadcaster(ctx)
    assert broadcaster is not None
    catalog = broadcaster.broadcasts
    return {
        audience: len(await ctx.run_blocking(catalog.audience, audience))
        for audience in (ALL, *ROLES)
    }


async def enter_audience(ctx: Context) -> None:
    sizes = await _sizes(ctx)
    options = [
        Option(audience, f"{LABELS[audience]} ({n})")
        for audience, n in sizes.items()
        if audience == ALL or n
    ]
    ctx.reply(Reply.ask("Who should receive it?", options))


async def on_audience(ctx: Context) -> None:
    chosen = ctx.event.choice or _typed_audience(ctx.event.text)
    if chosen not in LABELS:
        roles = ", ".join(LABELS[r].lower() for r in ROLES)
        ctx.reply(f"Answer *all* or a role ({roles}).")
        return
    ctx.data["audience"] = chosen
    ctx.goto("confirm")


def _typed_audience(text: str) -> str:
    said = norm(text)
    if said in ("all", "all users", "everyone", "everybody"):
        return ALL
    for audience, label in LABELS.items():
        if said in (audience, label.lower(), label.lower().removesuffix("s")):
            return audience
    return ""


async def enter_confirm(ctx: Context) -> None:
    broadcaster = _broadcaster(ctx)
    assert broadcaster is not None
    audience = str(ctx.data["audience"])
    n = len(await ctx.run_blocking(broadcaster.broadcasts.audience, audience))
    who = "all users" if audience == ALL else LABELS[audience].lower()
    ctx.reply(f"It goes to {_users(n)} ({who}), and reads:")
    ctx.reply(str(ctx.data["text"]))
    ctx.reply(
        Reply.ask("Send it?", [Option(SEND, f"Send to {_users(n)}"), Option(CANCEL, "Cancel")])
    )


async def on_confirm(ctx: Context) -> None:
    answer = ctx.event.choice or norm(ctx.event.text)
    if answer in (CANCEL, "no", "n", "don't send"):
        ctx.reply("Not sent.")
        ctx.finish()
        return
    if answer not in (SEND, "yes", "y", "send", "send it"):
        ctx.reply("Please answer *Send* or *Cancel*.")
        return
    broadcaster = _broadcaster(ctx)
    assert broadcaster is not None
    info = await broadcaster.create(
        key=f"{ctx.session.key}:{ctx.event.event_id}",
        created_by=ctx.session.user_id,
        reply_to=ctx.session.key,
        audience=str(ctx.data["audience"]),
        text=str(ctx.data["text"]),
    )
    ctx.reply(
        f"Broadcast #{info.id} is going out to {_users(info.recipients)}, about 30 a second. "
        "I will tell you the counts when it has finished."
    )
    ctx.finish()


BROADCAST = Workflow(
    name="broadcast",
    command="broadcast",
    description="send a message to all users or a role (admins)",
    start="text",
    states=(
        State(
            "text",
            on_enter=enter_text,
            on_event=on_text,
            next=("audience",),
            help=f"Type the message to send (up to {MAX_TEXT} characters).",
        ),
        State(
            "audience",
            on_enter=enter_audience,
            on_event=on_audience,
            next=("confirm",),
            help="Choose who receives it: all users, or the users of one role.",
        ),
        State(
            "confirm",
            on_enter=enter_confirm,
            on_event=on_confirm,
            final=True,
            help="Send it, or cancel. Each user receives it once, about 30 users a second.",
        ),
    ),
)
