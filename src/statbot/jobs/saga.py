"""A saga (issue 14): ordered steps, each with the compensation that undoes it, undone in
reverse order when a later step fails. Used by the ingest: in the chat (``workflows/ingest.py``,
the steps inline) and in :class:`~statbot.jobs.temporal.ingest.IngestWorkflow`, whose
compensations are activities (:meth:`Saga.fail_async`).

A step's compensation is decided by what the step did (``undo(result)`` returns the action to
run, or None: nothing of this run to undo), so a step that found its work already done by an
earlier, crashed run of the same event (idempotent replay) undoes nothing. A compensation is
registered once its step is done, because the steps are atomic on their own (a file written to
a temporary name and renamed, a row in one transaction); one that is not (a download that can
stop half-way) registers its compensation before it runs (:meth:`Saga.on_failure`).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
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
    _undone_elsewhere: list[str] = field(default_factory=list)

    def failed_elsewhere(self, step: str, undone: Sequence[str]) -> None:
        """Later steps ran elsewhere (a workflow) and failed at ``step``, undoing ``undone``
        there: :meth:`fail` then reports them as this saga's, before its own."""
        self.step_name = step or self.step_name
        self._undone_elsewhere = list(undone)

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
        undone = self._failed(error)
        while self._undo:
            step, action = self._undo.pop()
            try:
                action()
            except Exception:  # the step's failure is what is raised; this one is logged
                log.exception("%s: compensating step %s failed", self.name, step)
                continue
            self._compensated(step, undone)
        return self._report(undone)

    async def fail_async(self, error: BaseException) -> list[str]:
        """:meth:`fail` for compensations that may be awaitable (a workflow's activities)."""
        undone = self._failed(error)
        while self._undo:
            step, action = self._undo.pop()
            try:
                result = action()
                if inspect.isawaitable(result):
                    await result
            except Exception:  # as in fail(): logged, the others still run
                log.exception("%s: compensating step %s failed", self.name, step)
                continue
            self._compensated(step, undone)
        return self._report(undone)

    def _failed(self, error: BaseException) -> list[str]:
        self.error = error
        if self.observer is not None:
            self.observer.saga_failed(self.name, self.step_name)
        undone: list[str] = []
        for step in self._undone_elsewhere:  # the later steps: undone first, over there
            self._compensated(step, undone)
        return undone

    def _compensated(self, step: str, undone: list[str]) -> None:
        undone.append(step)
        if self.observer is not None:
            self.observer.saga_compensated(self.name, step)

    def _report(self, undone: list[str]) -> list[str]:
        if undone:
            log.info("%s failed at %s; undone: %s", self.name, self.step_name, ", ".join(undone))
        return undone
