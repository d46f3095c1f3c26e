"""Quotas (issue 12): per-role defaults from the settings, per-user overrides in the catalog, and
the trainings a user started today.

A training takes one free training of the UTC day (``usage.trainings``) while any is left, and
beyond them one credit from the ledger (``spend:<job id>``); with neither it is refused, naming
the limit, when it resets and /buy. Each training is charged once by its job id (a
``training_charges`` row), so an event that starts a training and is applied again — a replay
after a crash — charges nothing more. A training that never ran (its job could not be
submitted or started, or was cancelled while queued) gives its charge back: the free training
to the day it was taken from, or the credit as a ledger movement ``return:<job id>``.

Synchronous (SQLAlchemy); call from the event loop through ``ctx.run_blocking``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from statbot.access.ledger import Ledger, NotEnoughCredits
from statbot.access.limits import (
    NAMES,
    ROWS,
    STORAGE,
    TRAININGS,
    Limits,
    QuotaExceeded,
    day_of,
    reset_words,
    show,
)
from statbot.access.models import AuditEntry, QuotaOverride, TrainingCharge, Usage, User
from statbot.access.roles import Role, at_least, role_of
from statbot.errors import AccessError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from statbot.access.catalog import Catalog
    from statbot.config import Settings

RETURN = "return"  # the ledger kind of a credit given back by a training that never ran


@dataclass(frozen=True, slots=True)
class Charge:
    """What starting a training took: a free training, or (``paid``) a credit."""

    job_id: str
    paid: bool
    balance: int | None = None  # credits left after a paid training
    again: bool = False  # the job was charged before (a replayed start)


class Quotas:
    def __init__(
        self, catalog: Catalog, settings: Settings, ledger: Ledger | None = None, clock: Any = None
    ) -> None:
        self.catalog = catalog
        self.settings = settings
        self.clock = clock or time.time
        self.ledger = ledger or Ledger(catalog, clock=self.clock)

    # limits -------------------------------------------------------------------------------
    def role(self, user_id: int) -> Role:
        return role_of(self.catalog, user_id, self.settings)

    def defaults(self, role: Role | str) -> dict[str, float]:
        """The role's limits from the settings (a blocked user has a viewer's)."""
        name = Role(role).value if Role(role) is not Role.BLOCKED else Role.VIEWER.value
        s = self.settings
        return {
            STORAGE: s.quota_storage_mb[name],
            TRAININGS: s.quota_trainings_per_day[name],
            ROWS: s.quota_rows_per_dataset[name],
        }

    def overrides(self, user_id: int) -> dict[str, float]:
        from sqlalchemy import select

        with self.catalog.session() as s:
            rows = s.scalars(select(QuotaOverride).where(QuotaOverride.user_id == user_id))
            return {r.name: r.value for r in rows if r.name in NAMES}

    def limits(self, user_id: int) -> Limits:
        """The user's limits: the role's defaults, each replaced by an override if one is set."""
        role = self.role(user_id)
        values = self.defaults(role)
        mine = self.overrides(user_id)
        values.update(mine)
        return Limits(role.value, overridden=frozenset(mine), **values)

    def set_override(self, actor_id: int, user_id: int, name: str, value: float | None) -> None:
        """Set (``value`` None: remove) a user's override; audited. The user must be known."""
        if name not in NAMES:
            raise AccessError(
                f"unknown quota {name!r}",
                user_message=f"There is no quota {name!r}: one of {', '.join(NAMES)}.",
            )
        now = self.clock()
        with self.catalog.session() as s:
            if s.get(User, user_id) is None:
                raise AccessError(
                    f"unknown user {user_id}",
                    user_message=f"I do not know user {user_id}: they have not written to me yet.",
                )
            row = s.get(QuotaOverride, (user_id, name))
            if value is None and row is not None:
                s.delete(row)
            elif value is not None and row is None:
                s.add(QuotaOverride(user_id=user_id, name=name, value=value, set_by=actor_id,
                                    set_at=now))  # fmt: skip
            elif value is not None and row is not None:
                row.value, row.set_by, row.set_at = value, actor_id, now
            shown = "default" if value is None else ("unlimited" if math.isinf(value) else value)
            s.add(AuditEntry(at=now, actor_id=actor_id, action="quota.set", target_id=user_id,
                             detail={"name": name, "value": shown}))  # fmt: skip

    # trainings ----------------------------------------------------------------------------
    def trainings_today(self, user_id: int, at: float | None = None) -> int:
        """The free trainings the user took today (UTC)."""
        day = day_of(self.clock() if at is None else at)
        with self.catalog.session() as s:
            usage = s.get(Usage, (user_id, day))
            return usage.trainings if usage is not None else 0

    def start_training(self, user_id: int, job_id: str) -> Charge:
        """Charge the training ``job_id`` once: a free training of today, else one credit.
        Raises :class:`QuotaExceeded` (nothing charged) when the user may not train or has
        neither. Calling it again for the same job charges nothing and answers the same."""
        now = self.clock()
        with self.catalog.session() as s:
            charged = s.get(TrainingCharge, job_id)
            if charged is not None:  # given back or not: the job id is the same job, once
                return Charge(job_id, charged.paid, again=True)
        if self.ledger.find(f"spend:{job_id}") is not None:  # paid before a crash lost the row
            self._record(user_id, job_id, now, paid=True)
            return Charge(job_id, True, self.ledger.balance(user_id), again=True)
        limits = self.limits(user_id)
        if not at_least(limits.role, Role.ANALYST):
            raise QuotaExceeded(
                TRAININGS,
                f"Training models needs the analyst role; you are {Role(limits.role).article}. "
                "An admin can grant it.",
            )
        if self._take_free(user_id, job_id, now, limits.trainings_per_day):
            return Charge(job_id, False)
        try:
            self.ledger.spend(user_id, 1, job_id, reason="training beyond the free quota")
        except NotEnoughCredits as exc:
            self._audit_refusal(user_id, now, TRAININGS)
            raise QuotaExceeded(TRAININGS, self._no_credit(limits, exc.balance, now)) from exc
        self._record(user_id, job_id, now, paid=True)
        return Charge(job_id, True, self.ledger.balance(user_id))

    def give_back(self, job_id: str, reason: str) -> bool:
        """The training ``job_id`` never ran: return its free training or its credit, once.
        False when there is nothing to return (unknown job, or already returned)."""
        with self.catalog.session() as s:
            charged = s.get(TrainingCharge, job_id)
            if charged is None or charged.returned_at is not None:
                return False
            paid, user_id, day = charged.paid, charged.user_id, charged.day
        if paid:  # its own key: a crash before the row below is marked returns it once
            self.ledger.record(key=f"{RETURN}:{job_id}", user_id=user_id, kind=RETURN, credits=1,
                               detail={"job_id": job_id, "reason": reason})  # fmt: skip
        with self.catalog.session() as s:
            charged = s.get(TrainingCharge, job_id)
            if charged is None or charged.returned_at is not None:
                return False
            charged.returned_at = self.clock()
            if not paid:
                usage = s.get(Usage, (user_id, day))
                if usage is not None and usage.trainings > 0:
                    usage.trainings -= 1
        return True

    # internals ----------------------------------------------------------------------------
    def _take_free(self, user_id: int, job_id: str, now: float, limit: float) -> bool:
        """One of today's free trainings, with the charge row, in one transaction."""
        from sqlalchemy import update

        day = day_of(now)
        with self.catalog.session() as s:
            if s.get(Usage, (user_id, day)) is None:
                s.add(Usage(user_id=user_id, day=day, trainings=0))
                s.flush()
            if not math.isinf(limit):
                # Conditional, so that two conversations of one user cannot both take the last.
                taken = s.execute(
                    update(Usage)
                    .where(Usage.user_id == user_id, Usage.day == day, Usage.trainings < limit)
                    .values(trainings=Usage.trainings + 1)
                    .execution_options(synchronize_session=False)
                )
                if getattr(taken, "rowcount", 0) != 1:
                    return False
            else:
                s.execute(
                    update(Usage)
                    .where(Usage.user_id == user_id, Usage.day == day)
                    .values(trainings=Usage.trainings + 1)
                    .execution_options(synchronize_session=False)
                )
            _upsert_charge(s, user_id, job_id, day, now, paid=False)
        return True

    def _record(self, user_id: int, job_id: str, now: float, *, paid: bool) -> None:
        with self.catalog.session() as s:
            _upsert_charge(s, user_id, job_id, day_of(now), now, paid=paid)

    def _audit_refusal(self, user_id: int, now: float, limit: str) -> None:
        with self.catalog.session() as s:
            s.add(AuditEntry(at=now, actor_id=user_id, action="quota.refused", target_id=user_id,
                             detail={"limit": limit}))  # fmt: skip

    @staticmethod
    def _no_credit(limits: Limits, balance: int, now: float) -> str:
        free = limits.trainings_per_day
        used = (
            "You have no free trainings"
            if free == 0
            else f"You have used your {show(TRAININGS, free)} free training(s) for today"
        )
        have = "none" if balance <= 0 else str(balance)
        return (
            f"{used} (the limit resets at {reset_words(now)}). A training beyond them costs 1 "
            f"credit, and you have {have}: /buy adds credits. /quota shows your limits."
        )


def _upsert_charge(
    s: Session, user_id: int, job_id: str, day: str, now: float, *, paid: bool
) -> None:
    if s.get(TrainingCharge, job_id) is None:
        s.add(TrainingCharge(job_id=job_id, user_id=user_id, day=day, at=now, paid=paid))
