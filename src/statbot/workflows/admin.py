"""The admin commands (issue 12): /grant, /revoke, /block, /unblock, /invite, /audit.

Each is a one-step workflow that answers and ends; the role gate has already checked that the
sender is an admin (:mod:`statbot.access.commands`), and :mod:`statbot.access.admin` checks what
they may change (admins: analysts and viewers; owners: anyone) and writes the audit entry. A
refusal raises an AccessError, which the engine shows in words without moving anything.
/users, the paged list, is :mod:`statbot.workflows.users`.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from statbot.access.admin import Admin
from statbot.access.invites import Invites, link
from statbot.access.roles import GRANTABLE, parse_role
from statbot.engine.workflow import Context, Handler, State, Workflow
from statbot.errors import AccessError
from statbot.workflows import data as D

if TYPE_CHECKING:
    from statbot.access.audit import AuditLine
    from statbot.access.directory import Directory

ROLES = ", ".join(r.value for r in GRANTABLE)
AUDIT_LINES = 20


def directory(ctx: Context) -> Directory:
    found = D.services(ctx).access
    if found is None:
        raise AccessError("no catalog", user_message="User management is not available here.")
    return found


def _usage(text: str) -> AccessError:
    return AccessError("usage", user_message=text)


def _args(ctx: Context) -> list[str]:
    return ctx.event.args.split()


async def on_grant(ctx: Context) -> None:
    args = _args(ctx)
    if len(args) != 2:
        raise _usage(f"Usage: /grant <user id or @username> <role> — roles: {ROLES}.")
    role = parse_role(args[1])
    ctx.reply(await Admin(directory(ctx)).grant(ctx.session.user_id, args[0], role))
    ctx.finish()


def _one_user(name: str, what: str) -> Handler:
    async def handler(ctx: Context) -> None:
        args = _args(ctx)
        if len(args) != 1:
            raise _usage(f"Usage: /{name} <user id or @username> — {what}.")
        admin = Admin(directory(ctx))
        act = {"revoke": admin.revoke, "block": admin.block, "unblock": admin.unblock}[name]
        ctx.reply(await act(ctx.session.user_id, args[0]))
        ctx.finish()

    return handler


async def on_invite(ctx: Context) -> None:
    args = _args(ctx)
    if len(args) != 1:
        raise _usage(f"Usage: /invite <role> — roles: {ROLES}.")
    role = parse_role(args[0])
    access = directory(ctx)
    code = await ctx.run_blocking(Invites(access).create, ctx.session.user_id, role)
    settings = access.settings
    days = (settings.invite_ttl_hours if settings is not None else 168.0) / 24
    ctx.reply(
        f"An invite that makes its first user {role.article} (one use, valid {days:g} days):\n"
        + link(access.bot_username, code)
    )
    ctx.finish()


async def on_audit(ctx: Context) -> None:
    args = _args(ctx)
    access = directory(ctx)
    user_id = None
    if args:
        person = await ctx.run_blocking(access.users.find, args[0])
        if person is None:
            raise _usage(f"I don't know {args[0]!r}: name a user by id or @username.")
        user_id = person.id
    lines = await ctx.run_blocking(access.audit.recent, user_id, AUDIT_LINES)
    if not lines:
        ctx.reply("The audit log has no entries" + (" for that user." if args else "."))
    else:
        names = await ctx.run_blocking(_labels, access, lines)
        head = f"The last {len(lines)} audit entries" + (f" of {args[0]}" if args else "")
        ctx.reply(head + ", newest first:\n" + "\n".join(_line(x, names) for x in lines))
    ctx.finish()


def _labels(access: Directory, lines: list[AuditLine]) -> dict[int, str]:
    ids = {i for x in lines for i in (x.actor_id, x.target_id) if i is not None}
    found = {i: access.users.get(i) for i in ids}
    return {i: (p.label if p is not None else str(i)) for i, p in found.items()}


def _line(entry: AuditLine, names: dict[int, str]) -> str:
    when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(entry.at))
    who = names.get(entry.actor_id, "statbot") if entry.actor_id is not None else "statbot"
    text = f"`{when}` *{entry.action}* by {who}"
    if entry.target_id is not None and entry.target_id != entry.actor_id:
        text += f" → {names.get(entry.target_id, str(entry.target_id))}"
    detail = entry.detail
    before, after = detail.get("before"), detail.get("after")
    if isinstance(before, dict) and isinstance(after, dict):
        text += f": {_state(before)} → {_state(after)}"
    for key in ("command", "role", "model", "credits"):
        if key in detail:
            text += f" ({key} {detail[key]})"
    return text


def _state(values: dict[str, object]) -> str:
    return "blocked" if values.get("blocked") else str(values.get("role", "?"))


def _answering(handler: Handler) -> Handler:
    """A refusal or a usage line is an answer, not a failure (no traceback in the log)."""

    async def run(ctx: Context) -> None:
        try:
            await handler(ctx)
        except AccessError as refused:
            ctx.reply(refused.user_message)
            ctx.finish()

    return run


def _one_shot(name: str, description: str, handler: Handler) -> Workflow:
    state = State("run", on_enter=_answering(handler), final=True)
    return Workflow(name, name, description, start="run", states=(state,), quiet_exit=True)


GRANT = _one_shot("grant", "give a user a role: /grant <user> <role>", on_grant)
REVOKE = _one_shot(
    "revoke",
    "a user back to the default role: /revoke <user>",
    _one_user("revoke", "back to the default role"),
)
BLOCK = _one_shot(
    "block",
    "refuse everything a user sends: /block <user>",
    _one_user("block", "refuse everything they send"),
)
UNBLOCK = _one_shot(
    "unblock", "lift a block: /unblock <user>", _one_user("unblock", "lift their block")
)
INVITE = _one_shot("invite", "a one-time link that grants a role: /invite <role>", on_invite)
AUDIT = _one_shot("audit", "recent audit entries: /audit [user]", on_audit)
ADMIN_WORKFLOWS = (GRANT, REVOKE, BLOCK, UNBLOCK, INVITE, AUDIT)
