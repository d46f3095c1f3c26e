"""The users table (issue 12): a row on first contact, found by id or @username, paged.

Synchronous (SQLAlchemy); :class:`statbot.access.directory.Directory` calls it in a thread and
keeps the hot path (every message) off the database.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from statbot.access.models import User
from statbot.access.roles import Role, default_role, effective

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from statbot.access.catalog import Catalog
    from statbot.config import Settings


@dataclass(frozen=True)
class Profile:
    """What the channel said about the sender (empty: unknown, keep what is stored)."""

    name: str = ""
    username: str = ""
    language: str = ""


@dataclass(frozen=True)
class Person:
    """A user row as the rest of statbot sees it; ``role`` is the effective role (owner by
    STATBOT_OWNER_IDS, blocked when blocked), ``stored`` what /grant last set."""

    id: int
    name: str
    username: str | None
    language: str | None
    role: Role
    stored: Role | None
    blocked: bool
    first_seen: float
    last_seen: float

    @property
    def label(self) -> str:
        """``Alice (@alice, 42)``: how admin replies name a user."""
        handle = f"@{self.username}, " if self.username else ""
        name = self.name.replace("*", "").replace("`", "") or "someone"  # not the chat's markup
        return f"{name} ({handle}{self.id})"


class Users:
    def __init__(self, catalog: Catalog, settings: Settings | None = None) -> None:
        self.catalog = catalog
        self.settings = settings

    def person(self, row: User) -> Person:
        try:
            stored: Role | None = Role(row.role)
        except ValueError:
            stored = None
        return Person(
            id=row.id,
            name=row.name,
            username=row.username,
            language=row.language,
            role=effective(row.id, row.role, row.blocked, self.settings),
            stored=stored,
            blocked=row.blocked,
            first_seen=row.first_seen,
            last_seen=row.last_seen,
        )

    def touch(self, user_id: int, profile: Profile, at: float | None = None) -> Person:
        """The user's row, created on first contact; ``last_seen`` and what the profile knows
        are updated. Safe when two conversations of one user race to create it."""
        from sqlalchemy.exc import IntegrityError

        now = time.time() if at is None else at
        try:
            with self.catalog.session() as s:
                return self._touch(s, user_id, profile, now)
        except IntegrityError:  # the other conversation created it first: update that row
            with self.catalog.session() as s:
                return self._touch(s, user_id, profile, now)

    def _touch(self, s: Session, user_id: int, profile: Profile, now: float) -> Person:
        row = s.get(User, user_id)
        if row is None:
            row = User(
                id=user_id,
                name=profile.name,
                username=profile.username or None,
                language=profile.language or None,
                role=self.first_role(user_id).value,
                blocked=False,
                first_seen=now,
                last_seen=now,
            )
            s.add(row)
            s.flush()
            return self.person(row)
        row.last_seen = max(row.last_seen, now)
        if profile.name:
            row.name = profile.name
        if profile.username:
            row.username = profile.username
        if profile.language:
            row.language = profile.language
        return self.person(row)

    def first_role(self, user_id: int) -> Role:
        if self.settings is not None and user_id in self.settings.owner_ids:
            return Role.OWNER
        return default_role(self.settings)

    def get(self, user_id: int) -> Person | None:
        with self.catalog.session() as s:
            row = s.get(User, user_id)
            return self.person(row) if row is not None else None

    def find(self, ref: str) -> Person | None:
        """A user by id (``42``) or ``@username`` (case-insensitive)."""
        from sqlalchemy import func, select

        ref = ref.strip()
        if ref.lstrip("-").isdigit():
            return self.get(int(ref))
        name = ref.removeprefix("@").lower()
        if not name:
            return None
        with self.catalog.session() as s:
            row = s.scalar(select(User).where(func.lower(User.username) == name).limit(1))
            return self.person(row) if row is not None else None

    def page(self, offset: int = 0, limit: int = 10) -> list[Person]:
        """Users, most recently seen first."""
        from sqlalchemy import select

        query = select(User).order_by(User.last_seen.desc(), User.id).offset(offset).limit(limit)
        with self.catalog.session() as s:
            return [self.person(r) for r in s.scalars(query).all()]

    def count(self) -> int:
        from sqlalchemy import func, select

        with self.catalog.session() as s:
            return int(s.scalar(select(func.count()).select_from(User)) or 0)

    def not_of_role(self, role: Role) -> list[Person]:
        """Users whose stored role is not ``role`` or who are blocked (their menus differ)."""
        from sqlalchemy import or_, select

        query = select(User).where(or_(User.role != role.value, User.blocked.is_(True)))
        with self.catalog.session() as s:
            return [self.person(r) for r in s.scalars(query).all()]
