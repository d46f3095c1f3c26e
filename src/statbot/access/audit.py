"""The audit log (issue 12): append-only rows of who did what to whom.

Every role change, admin action, deletion (/forget, a model deleted), payment and refusal is one
row. ``detail`` says what was done — the command, the roles before and after, a model's id —
never a user's data values (no dataset content, no message text).

Synchronous (SQLAlchemy); call from the event loop through ``asyncio.to_thread``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from statbot.access.models import AuditEntry

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from statbot.access.catalog import Catalog

# The actions this room writes (the ledger writes its own: purchase, refund, spend).
GRANT, REVOKE, BLOCK, UNBLOCK = "grant", "revoke", "block", "unblock"
INVITE, INVITE_USED, REFUSED = "invite", "invite_used", "refused"
FORGET, MODEL_DELETED = "forget", "model_deleted"


@dataclass(frozen=True)
class AuditLine:
    at: float
    actor_id: int | None
    action: str
    target_id: int | None
    detail: dict[str, Any]


def add(
    session: Session,
    action: str,
    *,
    actor: int | None,
    target: int | None = None,
    at: float | None = None,
    **detail: Any,
) -> None:
    """One entry, in the caller's transaction (with the change it records)."""
    session.add(
        AuditEntry(
            at=time.time() if at is None else at,
            actor_id=actor,
            action=action,
            target_id=target,
            detail=detail,
        )
    )


class Audit:
    def __init__(self, catalog: Catalog, clock: Callable[[], float] = time.time) -> None:
        self.catalog = catalog
        self.clock = clock

    def record(
        self, action: str, *, actor: int | None, target: int | None = None, **detail: Any
    ) -> None:
        with self.catalog.session() as s:
            add(s, action, actor=actor, target=target, at=self.clock(), **detail)

    def recent(self, user_id: int | None = None, limit: int = 20) -> list[AuditLine]:
        """The newest entries first; with ``user_id``, those the user did or had done to them."""
        from sqlalchemy import or_, select

        query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        if user_id is not None:
            query = query.where(
                or_(AuditEntry.actor_id == user_id, AuditEntry.target_id == user_id)
            )
        with self.catalog.session() as s:
            rows = s.scalars(query.limit(limit)).all()
            return [
                AuditLine(r.at, r.actor_id, r.action, r.target_id, dict(r.detail or {}))
                for r in rows
            ]
