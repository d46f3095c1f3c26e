"""Roles (issue 12): owner > admin > analyst > viewer, plus blocked, and who has which.

A user's role is stored in ``users.role``; ``users.blocked`` is a flag beside it, so /unblock
gives back the role the user had. The owners named by ``STATBOT_OWNER_IDS`` are owners whatever
the database says (the setting is the operator's word, and the way back in if the database was
changed by mistake). A user the catalog has never seen has the default role
(``STATBOT_DEFAULT_ROLE``, "analyst" unless set: the bot stays usable as before roles).

Other rooms ask here::

    role = role_of(catalog, user_id, settings)      # synchronous: call in a thread
    if at_least(role, Role.ADMIN): ...
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from statbot.errors import AccessError

if TYPE_CHECKING:
    from statbot.access.catalog import Catalog
    from statbot.config import Settings


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    ANALYST = "analyst"
    VIEWER = "viewer"
    BLOCKED = "blocked"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def article(self) -> str:
        """``an admin``, ``a viewer``: how the chat names someone of this role."""
        return ("an " if self.value[0] in "aeiou" else "a ") + self.value


_RANK = {Role.BLOCKED: 0, Role.VIEWER: 1, Role.ANALYST: 2, Role.ADMIN: 3, Role.OWNER: 4}
# The roles a user can be given (blocked is a flag, set by /block).
GRANTABLE = (Role.OWNER, Role.ADMIN, Role.ANALYST, Role.VIEWER)
DEFAULT_ROLE = Role.ANALYST


def parse_role(text: str) -> Role:
    """``"Admin"`` → Role.ADMIN; anything else is refused with the roles one may name."""
    try:
        role = Role(text.strip().lower().removesuffix("s"))
    except ValueError:
        role = None
    if role is None or role not in GRANTABLE:
        names = ", ".join(r.value for r in GRANTABLE)
        raise AccessError(
            f"unknown role {text!r}", user_message=f"There is no role {text!r}: one of {names}."
        )
    return role


def at_least(role: Role | str, minimum: Role | str) -> bool:
    """``role`` may do what ``minimum`` may (blocked may do nothing, not even what a viewer may)."""
    have, need = Role(role), Role(minimum)
    return have is not Role.BLOCKED and have.rank >= need.rank


def default_role(settings: Settings | None) -> Role:
    return Role(settings.default_role) if settings is not None else DEFAULT_ROLE


def effective(user_id: int, stored: str | None, blocked: bool, settings: Settings | None) -> Role:
    """The role a user has, from the stored row (None: never seen) and the settings."""
    if settings is not None and user_id in settings.owner_ids:
        return Role.OWNER
    if blocked:
        return Role.BLOCKED
    if stored is None:
        return default_role(settings)
    try:
        return Role(stored)
    except ValueError:  # a role a newer statbot wrote: the least this code knows
        return Role.VIEWER


def role_of(catalog: Catalog, user_id: int, settings: Settings | None = None) -> Role:
    """The user's role now, read from the catalog (synchronous: ``asyncio.to_thread``)."""
    from statbot.access.models import User

    with catalog.session() as s:
        user = s.get(User, user_id)
        if user is None:
            return effective(user_id, None, False, settings)
        return effective(user_id, user.role, user.blocked, settings)
