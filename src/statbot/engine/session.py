"""The session record: JSON-serialisable, versioned, no pickles, no data frames inside.

Datasets are referenced by id (files under ``STATBOT_DATA_DIR``); the session holds only refs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from statbot.engine.events import ConversationKey

SCHEMA_VERSION = 1
# How many recently applied event ids of each source (updates, jobs, timers) a session remembers.
DEDUPE_WINDOW = 64


class SessionStatus(StrEnum):
    ACTIVE = "active"
    GRACE = "grace"  # idle past the timeout; resumable until ``grace_until``


@dataclass(slots=True)
class Session:
    key: ConversationKey
    workflow: str | None = None
    state: str | None = None
    data: dict[str, Any] = field(default_factory=dict)  # the current workflow's selections
    stack: list[dict[str, Any]] = field(default_factory=list)  # back-stack: {"state", "data"}
    context: dict[str, Any] = field(default_factory=dict)  # last dataset/model/result, across flows
    datasets: list[str] = field(default_factory=list)  # dataset refs owned by this session
    history: list[dict[str, Any]] = field(default_factory=list)  # bounded: {"role","text","at"}
    version: int = 0
    last_update_id: int | None = None
    recent_events: list[str] = field(default_factory=list)
    schema_version: int = SCHEMA_VERSION
    status: SessionStatus = SessionStatus.ACTIVE
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    grace_until: float | None = None
    menu: str = ""  # token of the buttons currently valid; older presses are stale

    @property
    def user_id(self) -> int:
        return self.key.user_id

    def has_applied(self, event_id: str, update_id: int | None = None) -> bool:
        """True when this event was already applied to the session (dedupe).

        Membership in the recent window only, never "id <= the highest seen": Telegram may
        restart update ids at a random value after a week without updates, and a sandbox or a
        local Bot API server restarts them at 1 (issue 9). ``update_id`` is kept for callers."""
        return event_id in self.recent_events

    def mark_applied(self, event_id: str, update_id: int | None) -> None:
        """Remember ``event_id``; each source (``u`` updates, ``j`` jobs, ``t`` timers) keeps its
        own last :data:`DEDUPE_WINDOW` ids, so a chatty job cannot push updates out."""
        recent = self.recent_events
        recent.append(event_id)
        source = event_id[:1]
        same = [i for i, seen in enumerate(recent) if seen[:1] == source]
        if len(same) > DEDUPE_WINDOW:
            drop = set(same[: len(same) - DEDUPE_WINDOW])
            recent[:] = [seen for i, seen in enumerate(recent) if i not in drop]
        if update_id is not None:
            self.last_update_id = update_id  # the latest applied, for the console's id counter

    def remember(self, role: str, text: str, limit: int) -> None:
        """Append to the bounded history window."""
        self.history.append({"role": role, "text": text[:500], "at": round(time.time(), 3)})
        del self.history[:-limit]

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": str(self.key),
            "workflow": self.workflow,
            "state": self.state,
            "data": self.data,
            "stack": self.stack,
            "context": self.context,
            "datasets": self.datasets,
            "history": self.history,
            "version": self.version,
            "last_update_id": self.last_update_id,
            "recent_events": self.recent_events,
            "schema_version": self.schema_version,
            "status": self.status.value,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "grace_until": self.grace_until,
            "menu": self.menu,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Session:
        return cls(
            key=ConversationKey.parse(raw["key"]),
            workflow=raw.get("workflow"),
            state=raw.get("state"),
            data=dict(raw.get("data") or {}),
            stack=list(raw.get("stack") or []),
            context=dict(raw.get("context") or {}),
            datasets=list(raw.get("datasets") or []),
            history=list(raw.get("history") or []),
            version=int(raw.get("version", 0)),
            last_update_id=raw.get("last_update_id"),
            recent_events=list(raw.get("recent_events") or []),
            schema_version=int(raw.get("schema_version", 0)),
            status=SessionStatus(raw.get("status", "active")),
            created_at=float(raw.get("created_at", 0.0)),
            updated_at=float(raw.get("updated_at", 0.0)),
            grace_until=raw.get("grace_until"),
            menu=str(raw.get("menu", "")),
        )
