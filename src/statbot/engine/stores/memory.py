"""In-memory SessionStore for tests and throwaway runs. Same semantics as the durable ones.

Isolation: callers can never change stored state through a reference they hold. What a workflow
can mutate — ``data`` and ``context`` — is stored as a JSON round-trip copy (which also makes a
session that is not JSON-serialisable fail here, as it would in a real backend). The engine-owned
lists (``history``, ``stack``, ``recent_events``, ``datasets``) are append/pop-only by contract —
their entries are never changed in place — so copying the lists (not their entries) isolates
them; encoding the whole history on every commit was a third of the in-memory dispatch cost.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from statbot.engine.errors import StaleVersionError
from statbot.engine.events import ConversationKey, Event
from statbot.engine.replies import OutboxItem, Reply
from statbot.engine.session import Session, SessionStatus
from statbot.engine.stores.base import Fence, InboxEntry, Quarantined, SessionStore, StoreCounts


class MemoryStore(SessionStore):
    name = "memory"

    def __init__(self) -> None:
        self._sessions: dict[str, dict[str, Any]] = {}
        self._inbox: dict[int, InboxEntry] = {}
        self._inbox_ids: dict[tuple[str, str], int] = {}
        self._outbox: dict[str, dict[int, OutboxItem]] = {}
        self._next_seq = 1
        self._out_seq: dict[str, int] = {}
        self._quarantined: list[Quarantined] = []

    async def close(self) -> None:
        return None

    async def load(self, key: ConversationKey) -> Session | None:
        raw = self._sessions.get(str(key))
        if raw is None:
            return None
        # from_dict copies the lists; data and context get fresh copies here.
        data, context = json.loads(raw["mutable"])
        return Session.from_dict(raw["session"] | {"data": data, "context": context})

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
        self._refuse_fence(fence)
        name = str(session.key)
        current = self._sessions.get(name)
        actual = int(current["version"]) if current is not None else 0
        if actual != expected_version:
            raise StaleVersionError(name, expected_version, actual)
        mutable = json.dumps([session.data, session.context])  # raises if not JSON
        stored = session.to_dict()
        for name_ in ("history", "stack", "recent_events", "datasets"):
            stored[name_] = list(stored[name_])
        stored["data"] = stored["context"] = None
        session.version = stored["version"] = expected_version + 1
        self._sessions[name] = {
            "version": session.version,
            "status": session.status.value,
            "updated_at": session.updated_at,
            "grace_until": session.grace_until,
            "workflow": session.workflow,
            "session": stored,
            "mutable": mutable,
        }
        items = []
        box = self._outbox.setdefault(name, {})
        for reply in replies:
            seq = self._out_seq.get(name, 0) + 1
            self._out_seq[name] = seq
            item = OutboxItem(name, seq, event_id, reply)
            box[seq] = item
            items.append(item)
        if inbox_seq is not None:
            self._drop_inbox(inbox_seq)
        return items

    async def delete(self, key: ConversationKey) -> None:
        name = str(key)
        self._sessions.pop(name, None)
        self._outbox.pop(name, None)
        self._out_seq.pop(name, None)
        for seq in [s for s, e in self._inbox.items() if e.key == name]:
            self._drop_inbox(seq)

    def _drop_inbox(self, seq: int) -> None:
        entry = self._inbox.pop(seq, None)
        if entry is not None:
            self._inbox_ids.pop((entry.key, entry.event_id), None)

    async def inbox_append(self, event: Event) -> int | None:
        ident = (str(event.key), event.event_id)
        if ident in self._inbox_ids:
            return None
        seq = self._next_seq
        self._next_seq += 1
        self._inbox[seq] = InboxEntry(seq, ident[0], event.event_id, event)
        self._inbox_ids[ident] = seq
        return seq

    async def inbox_pending(self, limit: int = 1000, after_seq: int = 0) -> list[InboxEntry]:
        seqs = sorted(s for s in self._inbox if s > after_seq)[:limit]
        return [self._inbox[s] for s in seqs]

    async def inbox_discard(self, seq: int) -> None:
        self._drop_inbox(seq)

    async def outbox_pending(self, key: str | None = None, limit: int = 1000) -> list[OutboxItem]:
        names = [key] if key is not None else sorted(self._outbox)
        pending: list[OutboxItem] = []
        for name in names:
            box = self._outbox.get(name, {})
            pending.extend(box[s] for s in sorted(box) if not box[s].delivered)
        return pending[:limit]

    async def outbox_mark_delivered(self, key: str, seqs: Sequence[int]) -> None:
        # Delivered items are dropped: nothing reads them again.
        box = self._outbox.get(key, {})
        for seq in seqs:
            box.pop(seq, None)

    async def idle_since(self, before: float, limit: int = 1000) -> list[ConversationKey]:
        found = [
            ConversationKey.parse(name)
            for name, raw in self._sessions.items()
            if raw["status"] == SessionStatus.ACTIVE and raw["updated_at"] < before
        ]
        return found[:limit]

    async def grace_expired(self, now: float, limit: int = 1000) -> list[ConversationKey]:
        found = [
            ConversationKey.parse(name)
            for name, raw in self._sessions.items()
            if raw["status"] == SessionStatus.GRACE and (raw["grace_until"] or 0.0) <= now
        ]
        return found[:limit]

    async def keys_for_user(self, user_id: int) -> list[ConversationKey]:
        keys = (ConversationKey.parse(name) for name in self._sessions)
        return sorted(k for k in keys if k.user_id == user_id)

    async def counts(self) -> StoreCounts:
        raws = list(self._sessions.values())
        return StoreCounts(
            sessions=len(raws),
            active=sum(1 for r in raws if r["status"] == SessionStatus.ACTIVE),
            in_grace=sum(1 for r in raws if r["status"] == SessionStatus.GRACE),
            in_workflow=sum(1 for r in raws if r["workflow"]),
            inbox=len(self._inbox),
            outbox=sum(len(b) for b in self._outbox.values()),
        )

    async def sessions_by_workflow(self, limit: int = 10_000) -> dict[str, int]:
        found: dict[str, int] = {}
        for raw in list(self._sessions.values())[:limit]:
            if raw["workflow"]:
                found[raw["workflow"]] = found.get(raw["workflow"], 0) + 1
        return found

    async def quarantine(self, key: str, body: str, reason: str, at: float) -> None:
        self._quarantined.append(Quarantined(key, at, reason, body))

    async def quarantined(self, limit: int = 100) -> list[Quarantined]:
        return self._quarantined[:limit]
