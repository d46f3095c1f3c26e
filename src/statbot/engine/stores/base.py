"""The SessionStore contract. One backend per module: memory, sqlite, redis.

The promise this contract carries (DESIGN.md "Exactly-once transitions"): a session's new state,
the replies it produced (outbox), the applied event id and the consumption of its inbox entry are
written in **one atomic, versioned commit**. A commit whose ``expected_version`` is not the stored
version raises :class:`StaleVersionError` and writes nothing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from statbot.engine.events import ConversationKey, Event
from statbot.engine.replies import OutboxItem, Reply
from statbot.engine.session import Session
from statbot.errors import SessionError


@dataclass(frozen=True, slots=True)
class InboxEntry:
    """A journaled incoming event, not yet applied. ``seq`` orders arrival across the store."""

    seq: int
    key: str
    event_id: str
    event: Event


@dataclass(frozen=True, slots=True)
class Fence:
    """A lease on one conversation key held by ``owner`` (engine/leases.py): ``token`` grows
    with every lease taken, so a commit carrying an old one is refused (DESIGN.md promise 3)."""

    key: str
    owner: str
    token: int
    ttl_ms: int  # a fenced commit extends the lease by this much

    @property
    def value(self) -> str:
        return f"{self.token} {self.owner}"


@dataclass(frozen=True, slots=True)
class Quarantined:
    """A session record the engine could not read, set aside for the operator (issue 15)."""

    key: str
    at: float
    reason: str
    body: str


@dataclass(frozen=True, slots=True)
class StoreCounts:
    sessions: int
    active: int
    in_grace: int
    in_workflow: int
    inbox: int
    outbox: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "sessions": self.sessions,
            "active": self.active,
            "in_grace": self.in_grace,
            "in_workflow": self.in_workflow,
            "inbox": self.inbox,
            "outbox": self.outbox,
        }


class LeaseStore(ABC):
    """Leases on conversation keys, kept by a shared store (engine/leases.py uses them)."""

    @abstractmethod
    async def acquire(self, key: str, owner: str, ttl_ms: int) -> tuple[int, bool] | None:
        """Take (or renew, if ``owner`` has it) the lease of ``key``: (token, newly taken), or
        None when another owner holds it."""

    @abstractmethod
    async def next_entry(self, fence: Fence, ttl_ms: int) -> InboxEntry | None:
        """The key's oldest pending inbox entry; None after releasing the lease in the same
        step when nothing is pending. Raises LeaseLostError if the lease is no longer ours."""

    @abstractmethod
    async def release(self, fence: Fence) -> None:
        """Give the lease up (if still ours), whatever is pending."""

    @abstractmethod
    async def renew(self, fences: Sequence[Fence], ttl_ms: int) -> list[Fence]:
        """Extend the leases still ours; return the ones that are not."""

    @abstractmethod
    async def orphans(self, limit: int = 10_000) -> list[str]:
        """Keys whose lease nobody holds with pending inbox entries (among the oldest
        ``limit``, oldest first) or undelivered replies."""


class SessionStore(ABC):
    """Durable home of sessions, the inbox and the outbox."""

    name: str = "abstract"

    async def open(self) -> None:  # noqa: B027 - optional hook
        """Connect / create schema. Idempotent."""

    @abstractmethod
    async def close(self) -> None: ...

    # sessions -------------------------------------------------------------------------------
    @abstractmethod
    async def load(self, key: ConversationKey) -> Session | None: ...

    @abstractmethod
    async def commit(
        self,
        session: Session,
        *,
        expected_version: int,
        replies: Sequence[Reply] = (),
        event_id: str = "",
        inbox_seq: int | None = None,
        fence: Fence | None = None,
    ) -> list[OutboxItem]:
        """Atomically: check the stored version equals ``expected_version`` (0 = new session),
        write ``session`` with ``version = expected_version + 1``, append ``replies`` to the
        outbox (tagged with ``event_id``), and delete inbox entry ``inbox_seq`` if given.
        Returns the outbox items written. Sets ``session.version`` on success.
        ``fence``: only for a store with :meth:`leases`; the commit is refused with
        :class:`~statbot.engine.errors.LeaseLostError` unless that lease is still held."""

    @abstractmethod
    async def delete(self, key: ConversationKey) -> None:
        """Remove the session, its outbox and its inbox entries."""

    # inbox ----------------------------------------------------------------------------------
    @abstractmethod
    async def inbox_append(self, event: Event) -> int | None:
        """Journal an incoming event; return its seq, or None when the same ``event_id`` for the
        same key is already pending (a duplicate delivery). Durable when it returns."""

    @abstractmethod
    async def inbox_pending(self, limit: int = 1000, after_seq: int = 0) -> list[InboxEntry]:
        """Unapplied entries with seq > after_seq, in seq order."""

    @abstractmethod
    async def inbox_discard(self, seq: int) -> None:
        """Drop an entry without a commit (an event that turned out to be a duplicate)."""

    # outbox ---------------------------------------------------------------------------------
    @abstractmethod
    async def outbox_pending(self, key: str | None = None, limit: int = 1000) -> list[OutboxItem]:
        """Undelivered replies (of one key, or all), in (key, seq) order."""

    @abstractmethod
    async def outbox_mark_delivered(self, key: str, seqs: Sequence[int]) -> None: ...

    # expiry, users, counts ------------------------------------------------------------------
    @abstractmethod
    async def idle_since(self, before: float, limit: int = 1000) -> list[ConversationKey]:
        """ACTIVE sessions whose ``updated_at`` is older than ``before``."""

    @abstractmethod
    async def grace_expired(self, now: float, limit: int = 1000) -> list[ConversationKey]:
        """GRACE sessions whose ``grace_until`` has passed."""

    @abstractmethod
    async def keys_for_user(self, user_id: int) -> list[ConversationKey]: ...

    @abstractmethod
    async def counts(self) -> StoreCounts: ...

    @abstractmethod
    async def sessions_by_workflow(self, limit: int = 10_000) -> dict[str, int]:
        """How many sessions are in each workflow (those in none are not counted); at most
        ``limit`` sessions are looked at (a gauge, not an audit)."""

    # leases ---------------------------------------------------------------------------------
    def leases(self) -> LeaseStore | None:
        """Per-key leases, for a store that several processes share (Redis); None for a store
        only one process opens (memory, SQLite): its one engine orders every key itself."""
        return None

    def _refuse_fence(self, fence: Fence | None) -> None:
        if fence is not None:
            raise SessionError(f"the {self.name} store has no leases; commit without a fence")

    # damaged records ------------------------------------------------------------------------
    @abstractmethod
    async def quarantine(self, key: str, body: str, reason: str, at: float) -> None:
        """Keep an unreadable session record (as stored) for the operator; durable on return.
        The session itself is left as it is: the engine's next commit replaces it."""

    @abstractmethod
    async def quarantined(self, limit: int = 100) -> list[Quarantined]:
        """The records set aside, oldest first."""

    async def __aenter__(self) -> SessionStore:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
