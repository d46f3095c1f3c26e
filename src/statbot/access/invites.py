"""One-time invite links (issue 12): ``https://t.me/<bot>?start=<code>`` grants a role once.

An admin creates one for an analyst or a viewer, an owner for any role. ``/start <code>`` from
the link grants the role (a code is used once, and expires after ``STATBOT_INVITE_TTL_HOURS``);
a used, expired or unknown code says so. Redeeming is one transaction: the user's row, the code
marked used and the audit entry. The same user redeeming their own code again (a replayed
update) is told it worked, and nothing changes twice.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from statbot.access import audit
from statbot.access.models import Invite, User
from statbot.access.roles import Role, at_least
from statbot.errors import AccessError

if TYPE_CHECKING:
    from statbot.access.directory import Directory
    from statbot.access.users import Person, Profile

# Telegram's deep-link parameter: up to 64 of A-Z a-z 0-9 _ -
CODE = re.compile(r"[A-Za-z0-9_-]{8,64}")
GRANTED, ALREADY, USED, EXPIRED, UNKNOWN = "granted", "already", "used", "expired", "unknown"


@dataclass(frozen=True)
class Redeemed:
    status: str
    role: Role | None = None
    person: Person | None = None


def link(bot_username: str | None, code: str) -> str:
    if bot_username:
        return f"https://t.me/{bot_username}?start={code}"
    return f"/start {code}"


class Invites:
    def __init__(self, directory: Directory) -> None:
        self.directory = directory

    def create(self, actor_id: int, role: Role) -> str:
        """A new code for ``role``; refused unless the actor may give that role."""
        actor = self.directory.users.get(actor_id)
        actor_role = actor.role if actor is not None else Role.VIEWER
        if role in (Role.ADMIN, Role.OWNER) and not at_least(actor_role, Role.OWNER):
            text = f"Only an owner can invite {role.article}."
            self.directory.audit.record(
                audit.REFUSED, actor=actor_id, command="invite", reason=text
            )
            raise AccessError(text, user_message=text)
        code = secrets.token_urlsafe(12)
        now = self.directory.clock()
        settings = self.directory.settings
        ttl_h = settings.invite_ttl_hours if settings is not None else 7 * 24.0
        with self.directory.catalog.session() as s:
            s.add(
                Invite(
                    code=code,
                    role=role.value,
                    created_by=actor_id,
                    created_at=now,
                    expires_at=now + ttl_h * 3600,
                )
            )
            audit.add(s, audit.INVITE, actor=actor_id, at=now, role=role.value)
        return code

    def redeem(self, code: str, user_id: int, profile: Profile) -> Redeemed:
        now = self.directory.clock()
        users = self.directory.users
        users.touch(user_id, profile, now)
        with self.directory.catalog.session() as s:
            invite = s.get(Invite, code, with_for_update=True)
            if invite is None:
                return Redeemed(UNKNOWN)
            role = Role(invite.role)
            if invite.used_by is not None:
                same = invite.used_by == user_id
                return Redeemed(ALREADY if same else USED, role)
            if invite.expires_at is not None and now > invite.expires_at:
                return Redeemed(EXPIRED, role)
            row = s.get(User, user_id)
            assert row is not None  # touched above
            current = users.person(row)
            if current.role is Role.BLOCKED:
                return Redeemed(USED, role)  # a blocked user's invite does nothing
            if current.role.rank >= role.rank:
                return Redeemed(ALREADY, current.role)
            before = row.role
            row.role = role.value
            invite.used_by, invite.used_at = user_id, now
            audit.add(
                s,
                audit.INVITE_USED,
                actor=user_id,
                target=user_id,
                at=now,
                before={"role": before},
                after={"role": role.value},
                invited_by=invite.created_by,
            )
            s.flush()
            return Redeemed(GRANTED, role, users.person(row))
