"""/users (issue 12): everyone the bot knows, most recently seen first, 10 buttons a page.

Pressing a user (or typing their number, id or @username) shows their card: role, when first and
last seen, and the commands that change them. The list stays open for another pick; any command
leaves it.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from statbot.engine.replies import Option, Reply
from statbot.engine.workflow import Context, State, Workflow
from statbot.workflows.admin import directory

if TYPE_CHECKING:
    from statbot.access.users import Person

PAGE = 10
LISTED = 1000  # the most recently seen; the rest by id or @username
HELP = "Press a user to see them, or type their id or @username. Any command leaves the list."


async def enter_list(ctx: Context) -> None:
    access = directory(ctx)
    people = await ctx.run_blocking(access.users.page, 0, LISTED)
    total = await ctx.run_blocking(access.users.count)
    ctx.data["shown"] = [p.id for p in people]
    if not people:
        ctx.reply("Nobody has written to me yet.")
        ctx.finish()
        return
    head = f"{total} user{'s' if total != 1 else ''}"
    if total > len(people):
        head += f" (the {len(people)} seen most recently; others by id or @username)"
    options = [Option(str(p.id), f"{p.label} · {p.role.value}") for p in people]
    ctx.reply(Reply.ask(head + ", most recently seen first:", options, page_size=PAGE))


async def on_list(ctx: Context) -> None:
    access = directory(ctx)
    event = ctx.event
    ref = event.choice or event.text.strip()
    shown = [int(i) for i in ctx.data.get("shown") or []]
    if ref.isdigit() and 1 <= int(ref) <= len(shown) and not event.choice:
        ref = str(shown[int(ref) - 1])
    person = await ctx.run_blocking(access.users.find, ref) if ref else None
    if person is None:
        ctx.reply(f"I don't know {ref!r}. " + HELP)
        return
    ctx.reply(card(person))


def card(person: Person) -> str:
    def day(at: float) -> str:
        return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(at))

    lines = [
        f"*{person.label}*",
        f"Role: {person.role.value}" + (" (blocked)" if person.blocked else ""),
        f"Language: {person.language or 'unknown'}",
        f"First seen {day(person.first_seen)}, last seen {day(person.last_seen)}",
        f"Change: `/grant {person.id} <role>`, `/revoke {person.id}`, "
        + (f"`/unblock {person.id}`" if person.blocked else f"`/block {person.id}`")
        + f", `/audit {person.id}`",
    ]
    return "\n".join(lines)


USERS = Workflow(
    "users",
    "users",
    "everyone I know, with their roles",
    start="list",
    states=(State("list", on_enter=enter_list, on_event=on_list, next=("list",), help=HELP),),
    quiet_exit=True,
)
