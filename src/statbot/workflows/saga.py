"""A saga (issue 14): ordered steps, each with the compensation that undoes it, undone in
reverse order when a later step fails. Used by the ingest (``workflows/ingest.py``).

A step's compensation is decided by what the step did (``undo(result)`` returns the action to
run, or None: nothing of this run to undo), so a step that found its work already done by an
earlier, crashed run of the same event (idempotent replay) undoes nothing. A compensation is
registered once its step is done, because the steps are atomic on their own (a file written to
a temporary name and renamed, a row in one transaction); one that is not (a download that can
stop half-way) registers its compensation before it runs (:meth:`Saga.on_failure`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

T = TypeVar("T")
Undo = Callable[[], object]
log = logging.getLogger(__name__)


class SagaObserver(Protocol):
    """What a saga reports (``ops.metrics.Metrics`` implements it; the app hands it in)."""

    def saga_failed(self, saga: str, step: str) -> None: ...

    def saga_compensated(self, saga: str, step: str) -> None: ...

    def staging_cleaned(self, outcome: str) -> None: ...


Checkpoint = Callable[[str], None]  # called after each step: the tests' failure injection


@dataclass
class Saga:
    """One run. ``checkpoint(step)`` runs after each step has done its work (tests raise
    there: the worst moment, when the step's effect is in place and must be undone)."""

    name: str
    observer: SagaObserver | None = None
    checkpoint: Checkpoint | None = None
    step_name: str = ""  # the step running, or the last one done
    error: BaseException | None = None  # what made it fail (for the compensations)
    _undo: list[tuple[str, Undo]] = field(default_factory=list)

    def on_failure(self, step: str, action: Undo) -> None:
        """Register ``step``'s compensation before it runs: one that must run even when the
        step itself fails half-way (a partial download is kept as ``.failed`` too)."""
        self._undo.append((step, action))

    def run(
        self, step: str, action: Callable[[], T], undo: Callable[[T], Undo | None] | None = None
    ) -> T:
        self.step_name = step
        result = action()
        self._done(step, result, undo)
        return result

    async def run_async(
        self,
        step: str,
        action: Callable[[], Awaitable[T]],
        undo: Callable[[T], Undo | None] | None = None,
    ) -> T:
        self.step_name = step
        result = await action()
        self._done(step, result, undo)
        return result

    def _done(self, step: str, result: T, undo: Callable[[T], Undo | None] | None) -> None:
        action = undo(result) if undo is not None else None
        if action is not None:
            self._undo.append((step, action))
        if self.checkpoint is not None:
            self.checkpoint(step)

    def fail(self, error: BaseException) -> list[str]:
        """The step ``step_name`` failed: undo what the earlier ones did, last first. A
        compensation that fails is logged and the others still run (each leaves what it could
        not remove to a sweep: the staging TTL, the datasets' orphan sweep). Returns the steps
        compensated."""
        self.error = error
        if self.observer is not None:
            self.observer.saga_failed(self.name, self.step_name)
        undone: list[str] = []
        while self._undo:
            step, action = self._undo.pop()
            try:
                action()
            except Exception:  # the step's failure is what is raised; this one is logged
                log.exception("%s: compensating step %s failed", self.name, step)
                continue
            undone.append(step)
            if self.observer is not None:
                self.observer.saga_compensated(self.name, step)
        if undone:
            log.info("%s failed at %s; undone: %s", self.name, self.step_name, ", ".join(undone))
        return undone
