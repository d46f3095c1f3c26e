"""Broadcasts in the catalog (issue 12): who receives one, and each recipient's state.

A broadcast is created with one ``pending`` row per recipient, in one transaction, keyed by the
event that confirmed it (a replayed event finds it again). A recipient then moves

    pending → queued (its notice is journaled in the engine) → sending → sent | blocked | failed

``sending`` is set right before the one Bot API call and the outcome right after it, so a
recipient already ``sent`` is never sent to again, whatever the engine re-delivers after a
crash. The audience is taken when the broadcast is created: a user who joins later does not get
it. Users blocked by an admin, and users who blocked the bot and have not written since, are
left out.

Synchronous (SQLAlchemy); :mod:`statbot.access.broadcaster` calls it through
``asyncio.to_thread``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from statbot.access.models import Broadcast, BroadcastRecipient, User

if TYPE_CHECKING:
    from sqlalchemy import Select
    from sqlalchemy.orm import Session

    from statbot.access.catalog import Catalog

log = logging.getLogger(__name__)

ALL = "all"
ROLES = ("owner", "admin", "analyst", "viewer")
ADMIN_ROLES = frozenset({"owner", "admin"})
PENDING, QUEUED, SENDING = "pending", "queued", "sending"
SENT, BLOCKED, FAILED = "sent", "blocked", "failed"
FINAL = frozenset({SENT, BLOCKED, FAILED})
OPEN = (PENDING, QUEUED, SENDING)
# The broadcast's own states.
ACTIVE, DONE = "sending", "done"


@dataclass(frozen=True)
class BroadcastInfo:
    id: int
    created_by: int
    audience: str
    text: str
    state: str
    reply_to: str | None
    recipients: int


@dataclass(frozen=True)
class Counts:
    """Recipients by state."""

    sent: int = 0
    blocked: int = 0
    failed: int = 0
    open: int = 0  # not finished yet (pending, queued, sending)

    @property
    def total(self) -> int:
        return self.sent + self.blocked + self.failed + self.open


class Broadcasts:
    def __init__(self, catalog: Catalog, clock: Callable[[], float] = time.time) -> None:
        self.catalog = catalog
        self.clock = clock

    # the audience --------------------------------------------------------------------------
    def role_of(self, user_id: int) -> str | None:
        """The user's role, None without a row; "blocked" for a user an admin blocked."""
        with self.catalog.session() as s:
            user = s.get(User, user_id)
            if user is None:
                return None
            return "blocked" if user.blocked else user.role

    def audience(self, audience: str) -> list[int]:
        """The user ids a broadcast to ``audience`` (``all`` or a role) would reach, in order."""
        with self.catalog.session() as s:
            return list(s.scalars(_audience_query(audience)))

    # creating ------------------------------------------------------------------------------
    def create(
        self, *, key: str, created_by: int, reply_to: str, audience: str, text: str
    ) -> BroadcastInfo:
        """The broadcast with this ``key``: created with its recipients, or found (a replay)."""
        found = self.by_key(key)
        if found is not None:
            return found
        try:
            with self.catalog.session() as s:
                row = Broadcast(
                    key=key,
                    created_by=created_by,
                    created_at=self.clock(),
                    audience=audience,
                    text=text,
                    state=ACTIVE,
                    reply_to=reply_to,
                )
                s.add(row)
                s.flush()
                ids = list(s.scalars(_audience_query(audience)))
                s.add_all(
                    BroadcastRecipient(broadcast_id=row.id, user_id=uid, state=PENDING)
                    for uid in ids
                )
                info = _info(row, len(ids))
        except IntegrityError:  # the same key created concurrently: that one wins
            found = self.by_key(key)
            if found is None:
                raise
            return found
        log.info("broadcast %d created for %d recipient(s) (%s)", info.id, len(ids), audience)
        return info

    def by_key(self, key: str) -> BroadcastInfo | None:
        with self.catalog.session() as s:
            row = s.scalar(select(Broadcast).where(Broadcast.key == key))
            return None if row is None else _info(row, self._total(s, row.id))

    def get(self, broadcast_id: int) -> BroadcastInfo | None:
        with self.catalog.session() as s:
            row = s.get(Broadcast, broadcast_id)
            return None if row is None else _info(row, self._total(s, broadcast_id))

    def active(self) -> list[BroadcastInfo]:
        """Broadcasts not finished yet, oldest first."""
        with self.catalog.session() as s:
            rows = s.scalars(select(Broadcast).where(Broadcast.state == ACTIVE).order_by("id"))
            return [_info(row, self._total(s, row.id)) for row in rows]

    # the fan-out ---------------------------------------------------------------------------
    def pending(self, broadcast_id: int, limit: int) -> list[int]:
        """The next recipients not handed to the engine yet, in user id order."""
        with self.catalog.session() as s:
            query = (
                select(BroadcastRecipient.user_id)
                .where(
                    BroadcastRecipient.broadcast_id == broadcast_id,
                    BroadcastRecipient.state == PENDING,
                )
                .order_by(BroadcastRecipient.user_id)
                .limit(limit)
            )
            return list(s.scalars(query))

    def in_flight(self, broadcast_id: int) -> int:
        """Recipients handed to the engine whose send has no outcome yet."""
        with self.catalog.session() as s:
            return self._count(s, broadcast_id, (QUEUED, SENDING))

    def mark_queued(self, broadcast_id: int, user_ids: Iterable[int]) -> None:
        self._move(broadcast_id, list(user_ids), PENDING, QUEUED)

    def requeue(self, broadcast_id: int) -> int:
        """``queued`` → ``pending``: for a session store that lost its journal in a restart
        (memory), so those recipients are handed to the engine again. Returns how many."""
        with self.catalog.session() as s:
            result = s.execute(
                update(BroadcastRecipient)
                .where(
                    BroadcastRecipient.broadcast_id == broadcast_id,
                    BroadcastRecipient.state == QUEUED,
                )
                .values(state=PENDING)
            )
            return int(getattr(result, "rowcount", 0) or 0)

    # one send ------------------------------------------------------------------------------
    def claim(self, broadcast_id: int, user_id: int) -> bool:
        """Before the Bot API call: False when this recipient has an outcome already (the
        engine re-delivered after a crash), else marked ``sending``. A recipient found
        ``sending`` was interrupted mid-call: sent again (Telegram has no idempotency key, so
        that one message may arrive twice), and logged."""
        with self.catalog.session() as s:
            row = s.get(BroadcastRecipient, (broadcast_id, user_id))
            if row is None or row.state in FINAL:
                return False
            if row.state == SENDING:
                log.warning(
                    "broadcast %d: the send to a recipient was interrupted; sending again",
                    broadcast_id,
                )
            row.state = SENDING
            row.at = self.clock()
            return True

    def record(
        self, broadcast_id: int, user_id: int, outcome: str, message_id: int | None = None
    ) -> None:
        """After the call: ``sent``, ``blocked`` (403: the user blocked the bot; the user is
        marked unreachable) or ``failed`` (any other refusal)."""
        if outcome not in FINAL:
            raise ValueError(f"unknown outcome {outcome!r}")
        now = self.clock()
        with self.catalog.session() as s:
            row = s.get(BroadcastRecipient, (broadcast_id, user_id))
            if row is None:
                return
            row.state, row.at, row.message_id = outcome, now, message_id
            if outcome == BLOCKED:
                user = s.get(User, user_id)
                if user is not None:
                    user.unreachable_since = now

    def counts(self, broadcast_id: int) -> Counts:
        with self.catalog.session() as s:
            rows = s.execute(
                select(BroadcastRecipient.state, func.count())
                .where(BroadcastRecipient.broadcast_id == broadcast_id)
                .group_by(BroadcastRecipient.state)
            ).all()
        by_state = {str(state): int(n) for state, n in rows}
        return Counts(
            sent=by_state.get(SENT, 0),
            blocked=by_state.get(BLOCKED, 0),
            failed=by_state.get(FAILED, 0),
            open=sum(by_state.get(state, 0) for state in OPEN),
        )

    def mark_done(self, broadcast_id: int) -> None:
        with self.catalog.session() as s:
            row = s.get(Broadcast, broadcast_id)
            if row is not None and row.state == ACTIVE:
                row.state, row.finished_at = DONE, self.clock()

    # internals -----------------------------------------------------------------------------
    def _move(self, broadcast_id: int, user_ids: list[int], old: str, new: str) -> None:
        if not user_ids:
            return
        with self.catalog.session() as s:
            s.execute(
                update(BroadcastRecipient)
                .where(
                    BroadcastRecipient.broadcast_id == broadcast_id,
                    BroadcastRecipient.user_id.in_(user_ids),
                    BroadcastRecipient.state == old,
                )
                .values(state=new, at=self.clock())
            )

    @staticmethod
    def _count(s: Session, broadcast_id: int, states: tuple[str, ...]) -> int:
        query = (
            select(func.count())
            .select_from(BroadcastRecipient)
            .where(
                BroadcastRecipient.broadcast_id == broadcast_id,
                BroadcastRecipient.state.in_(states),
            )
        )
        return int(s.scalar(query) or 0)

    def _total(self, s: Session, broadcast_id: int) -> int:
        return self._count(s, broadcast_id, (*OPEN, *FINAL))


def _audience_query(audience: str) -> Select[Any]:
    query = select(User.id).where(
        User.blocked.is_(False),
        User.role != "blocked",
        # Blocked the bot and not written since: a message would only earn another 403.
        or_(User.unreachable_since.is_(None), User.last_seen > User.unreachable_since),
    )
    if audience != ALL:
        query = query.where(User.role == audience)
    return query.order_by(User.id)


def _info(row: Broadcast, recipients: int) -> BroadcastInfo:
    return BroadcastInfo(
        id=row.id,
        created_by=row.created_by,
        audience=row.audience,
        text=row.text,
        state=row.state,
        reply_to=row.reply_to,
        recipients=recipients,
    )
