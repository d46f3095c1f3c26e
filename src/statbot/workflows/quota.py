"""/quota: a user's limits and what they used (issue 12); an admin's view and overrides.

``/quota`` shows the user's own: storage used of the limit, today's free trainings of the limit
and when they reset, rows per dataset, and the credits balance. An admin may name a user:
``/quota <user>`` shows theirs with the overrides set for them, ``/quota <user> <name> <value>``
sets an override (``storage_mb``, ``trainings_per_day``, ``rows_per_dataset``; a number,
``unlimited``, or ``default`` to remove it). ``<user>`` is an id or an @username.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from statbot.access.limits import (
    NAMES,
    ROWS,
    STORAGE,
    TRAININGS,
    parse_value,
    show,
    show_mb,
)
from statbot.access.roles import Role, at_least
from statbot.engine.workflow import Context, State, Workflow
from statbot.errors import AccessError
from statbot.workflows import data as D
from statbot.workflows import quota_checks as Q

if TYPE_CHECKING:
    from statbot.access.quotas import Quotas
    from statbot.workflows.services import Services

USAGE = (
    "Usage: /quota shows yours; an admin may type /quota <user> to see a user's, and "
    "/quota <user> <name> <value> to set one (names: " + ", ".join(NAMES) + "; a number, "
    "'unlimited', or 'default')."
)
LABELS = {STORAGE: "storage", TRAININGS: "free trainings per day", ROWS: "rows per dataset"}


async def show_quota(ctx: Context) -> None:
    svc = D.services(ctx)
    quotas = Q.quotas(svc)
    if quotas is None:
        ctx.reply("There are no quotas here: this bot runs without its accounts database.")
        return
    args = ctx.event.args.split()
    me = ctx.session.user_id
    if not args:
        ctx.reply(await ctx.run_blocking(report, svc, quotas, me, me))
        return
    answer = await ctx.run_blocking(admin, svc, quotas, me, args)
    ctx.reply(answer)


def admin(svc: Services, quotas: Quotas, actor: int, args: list[str]) -> str:
    """``/quota <user> [<name> <value>]`` by ``actor`` (blocking: reads the catalog)."""
    role = quotas.role(actor)
    if not at_least(role, Role.ADMIN):
        return (
            f"Only an admin can see or set another user's quota; you are {role.article}. "
            "/quota shows yours."
        )
    target = find_user(quotas, args[0])
    if len(args) == 1:
        return report(svc, quotas, actor, target)
    if len(args) != 3:
        return USAGE
    name, value_text = args[1].lower(), args[2]
    if name not in NAMES:
        return f"There is no quota {args[1]!r}: one of {', '.join(NAMES)}."
    theirs = quotas.role(target)
    if role is not Role.OWNER and not role.rank > theirs.rank:
        return f"Only an owner can change the quotas of {theirs.article}."
    value = None if value_text.lower() == "default" else parse_value(value_text)
    before = quotas.limits(target).get(name)
    quotas.set_override(actor, target, name, value)
    after = quotas.limits(target).get(name)
    how = "back to the role's default" if value is None else "set for them"
    return (
        f"User {target}'s {LABELS[name]} ({name}) is now {show(name, after)}, {how} "
        f"(it was {show(name, before)})."
    )


def find_user(quotas: Quotas, text: str) -> int:
    """An id or an @username of someone the catalog knows (access.users)."""
    from statbot.access.users import Users

    person = Users(quotas.catalog, quotas.settings).find(text)
    if person is None:
        raise AccessError(
            f"unknown user {text!r}",
            user_message=f"I do not know {text!r}: give the id or @username of someone who "
            "has written to me.",
        )
    return person.id


def report(svc: Services, quotas: Quotas, actor: int, user_id: int) -> str:
    """The /quota text of ``user_id`` (blocking: catalog and disk)."""
    limits = quotas.limits(user_id)
    now = quotas.clock()
    mine = actor == user_id

    def mark(name: str) -> str:
        return " (set for you)" if mine and name in limits.overridden else ""

    head = "*Your quotas*" if mine else f"*Quotas of user {user_id}*"
    used = Q.used_bytes(svc, user_id)
    cap = limits.storage_mb
    storage = "no limit" if math.isinf(cap) else f"of {show(STORAGE, cap)}"
    lines = [
        f"{head} (role: {limits.role})",
        f"• Storage: {show_mb(used)} used, {storage} (datasets and models){mark(STORAGE)}",
    ]
    if not at_least(limits.role, Role.ANALYST):
        lines.append(f"• Trainings: {Role(limits.role).article} cannot train models")
    else:
        today = quotas.trainings_today(user_id, now)
        free = limits.trainings_per_day
        if math.isinf(free):
            lines.append(f"• Trainings today: {today}, no limit{mark(TRAININGS)}")
        else:
            lines.append(
                f"• Trainings today: {today} of {show(TRAININGS, free)} free{mark(TRAININGS)}; "
                "the count resets at 00:00 UTC. Beyond the free ones, a training costs 1 credit."
            )
    rows = min(limits.rows_per_dataset, svc.settings.max_rows)
    lines.append(f"• Rows per dataset: up to {show(ROWS, rows)}{mark(ROWS)}")
    balance = quotas.ledger.balance(user_id)
    lines.append(f"• Credits: {balance}" + (" — /buy adds more." if mine else ""))
    if not mine:
        overrides = quotas.overrides(user_id)
        set_ = ", ".join(f"{n} = {show(n, v)}" for n, v in overrides.items()) or "none"
        lines.append(f"Set for this user: {set_}. /quota {user_id} <name> default removes one.")
    return "\n".join(lines)


QUOTA = Workflow(
    "quota",
    "quota",
    "your limits: storage, trainings per day, rows per dataset, credits",
    start="show",
    states=(State("show", on_enter=show_quota, final=True),),
)
