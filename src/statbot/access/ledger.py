"""The credits ledger (issue 12): every movement once, by its key.

A movement's ``key`` is unique in the database (``uq_ledger_key``, in the migration): a purchase
is keyed by Telegram's ``telegram_payment_charge_id``, a refund by the same id, a spend by what
it paid for (a training's job id). Recording a movement whose key is already there changes
nothing and says so, which is what makes a payment update delivered twice, or replayed after a
crash between the journal and the commit, credit once. The balance is the sum of the movements.

Synchronous (SQLAlchemy); call from the event loop through ``asyncio.to_thread``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from statbot.access.models import AuditEntry, LedgerEntry
from statbot.errors import AccessError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from statbot.access.catalog import Catalog

PURCHASE, SPEND, REFUND, GRANT = "purchase", "spend", "refund", "grant"


class NotEnoughCredits(AccessError):
    """A spend larger than the balance."""

    def __init__(self, balance: int, needed: int) -> None:
        super().__init__(
            f"balance {balance} < {needed}",
            user_message=f"You have {balance} credit(s); this needs {needed}. /buy adds more.",
        )
        self.balance = balance
        self.needed = needed


@dataclass(frozen=True)
class Movement:
    """A ledger line as callers see it."""

    key: str
    user_id: int
    at: float
    kind: str
    credits: int
    stars: int
    charge_id: str | None


class Ledger:
    def __init__(self, catalog: Catalog, clock: Any = time.time) -> None:
        self.catalog = catalog
        self.clock = clock

    def balance(self, user_id: int) -> int:
        with self.catalog.session() as s:
            return _balance(s, user_id)

    def recent(self, user_id: int, limit: int = 10) -> list[Movement]:
        from sqlalchemy import select

        with self.catalog.session() as s:
            rows = s.scalars(
                select(LedgerEntry)
                .where(LedgerEntry.user_id == user_id)
                .order_by(LedgerEntry.at.desc(), LedgerEntry.id.desc())
                .limit(limit)
            ).all()
            return [_movement(r) for r in rows]

    def find(self, key: str) -> Movement | None:
        from sqlalchemy import select

        with self.catalog.session() as s:
            row = s.scalar(select(LedgerEntry).where(LedgerEntry.key == key))
            return _movement(row) if row is not None else None

    def record(
        self,
        *,
        key: str,
        user_id: int,
        kind: str,
        credits: int,
        stars: int = 0,
        charge_id: str | None = None,
        detail: dict[str, Any] | None = None,
        actor_id: int | None = None,
        allow_negative: bool = False,
    ) -> bool:
        """Record one movement (and its audit entry) unless its key is already recorded.
        Returns True when recorded now, False when it was already there. A spend that would
        take the balance below zero raises :class:`NotEnoughCredits` (unless
        ``allow_negative``: a refund of credits already spent)."""
        from sqlalchemy.exc import IntegrityError

        if self.find(key) is not None:
            return False
        now = self.clock()
        try:
            with self.catalog.session() as s:
                if credits < 0 and not allow_negative:
                    have = _balance(s, user_id, lock=True)
                    if have + credits < 0:
                        raise NotEnoughCredits(have, -credits)
                s.add(
                    LedgerEntry(
                        key=key,
                        user_id=user_id,
                        at=now,
                        kind=kind,
                        credits=credits,
                        stars=stars,
                        charge_id=charge_id,
                        detail=detail or {},
                    )
                )
                s.add(
                    AuditEntry(
                        at=now,
                        actor_id=actor_id if actor_id is not None else user_id,
                        action=f"ledger.{kind}",
                        target_id=user_id,
                        detail={"key": key, "credits": credits, "stars": stars},
                    )
                )
        except IntegrityError:
            return False  # recorded by a concurrent writer between find() and commit
        return True

    def spend(self, user_id: int, credits: int, key: str, **detail: Any) -> bool:
        """Spend ``credits`` once for ``key`` (``spend:<job id>``); False if already spent."""
        return self.record(
            key=f"{SPEND}:{key}", user_id=user_id, kind=SPEND, credits=-credits, detail=detail
        )


def _balance(s: Session, user_id: int, *, lock: bool = False) -> int:
    from sqlalchemy import func, select

    query = select(func.coalesce(func.sum(LedgerEntry.credits), 0)).where(
        LedgerEntry.user_id == user_id
    )
    if lock and s.get_bind().dialect.name == "postgresql":
        # Serialise concurrent spends of one user: lock the user's ledger rows first.
        s.execute(select(LedgerEntry.id).where(LedgerEntry.user_id == user_id).with_for_update())
    return int(s.scalar(query) or 0)


def _movement(row: LedgerEntry) -> Movement:
    return Movement(
        key=row.key,
        user_id=row.user_id,
        at=row.at,
        kind=row.kind,
        credits=row.credits,
        stars=row.stars,
        charge_id=row.charge_id,
    )
