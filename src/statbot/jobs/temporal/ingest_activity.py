"""The ingest saga's activities (issue 14): one a step of :mod:`statbot.jobs.ingest` and one a
compensation, run by :class:`~.ingest.IngestWorkflow` on the shared data dir and catalog.

Each is the blocking step in a thread. The loaded table does not travel between activities
(a workflow's history holds no frames): ``validate`` keeps it in this worker's memory for the
``parquet`` and ``catalog`` steps of the same run, and a step that runs on another worker (or
after a restart) reads the file again, which gives the same table. The user's own problem (a
bad file, a limit: a :class:`~statbot.errors.StatbotError`) is a non-retryable
``IngestRefused`` carrying the words the chat shows; anything else is retried by the policy.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from temporalio import activity
from temporalio.exceptions import ApplicationError

from statbot.errors import StatbotError
from statbot.jobs import ingest as steps
from statbot.jobs.ingest import CATALOG, PARQUET, QUOTA, VALIDATE, IngestInput, IngestStores
from statbot.jobs.temporal.messages import INGEST_ACTIVITY, INGEST_REFUSED

if TYPE_CHECKING:
    from statbot.access.catalog import Catalog
    from statbot.analysis.io import LoadResult
    from statbot.analysis.io.datasets import DatasetRef
    from statbot.jobs.saga import Checkpoint

T = TypeVar("T")
KEPT_TABLES = 2  # loaded tables kept between a run's steps (each up to the frame size limit)


@dataclass
class IngestActivities:
    """The activities, configured by the worker: the shared ``data_dir``, the ``catalog_url``
    the rows go to (None: the stores' JSON sidecars), and the tests' ``checkpoint`` (called
    after each step's work, as :class:`~statbot.jobs.saga.Saga` calls it inline)."""

    data_dir: Path
    catalog_url: str | None = None
    checkpoint: Checkpoint | None = None
    _tables: OrderedDict[str, LoadResult] = field(default_factory=OrderedDict, init=False)
    _catalog: Catalog | None = field(default=None, init=False)
    _stores: IngestStores | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.validate,
            self.parquet,
            self.catalog,
            self.quota,
            self.undo_parquet,
            self.undo_catalog,
        ]

    @activity.defn(name=INGEST_ACTIVITY.format(VALIDATE))
    async def validate(self, job: IngestInput) -> dict[str, Any]:
        """The file read and checked: its summary, its digest and the user's storage before."""

        def run() -> dict[str, Any]:
            result = self._keep(steps.validate(job))
            return {
                "stored": steps.summary(result).to_dict(),
                "digest": steps.digest_of(result, job.header_row),
                "before": steps.used_before(self.stores(), job),
            }

        return await self._step(VALIDATE, run)

    @activity.defn(name=INGEST_ACTIVITY.format(PARQUET))
    async def parquet(self, job: IngestInput, digest: str) -> dict[str, Any]:
        """The Parquet file; ``existing``: a row named it already (stored before)."""

        def run() -> dict[str, Any]:
            stores = self.stores()
            ref, created = steps.write_parquet(stores, job, self._table(job).frame, digest)
            existing = not created and steps.stored_already(stores, ref)
            return {"ref": ref.to_dict(), "existing": existing}

        return await self._step(PARQUET, run)

    @activity.defn(name=INGEST_ACTIVITY.format(CATALOG))
    async def catalog(self, job: IngestInput, ref: dict[str, Any]) -> bool:
        def run() -> bool:
            added = steps.add_entry(self.stores(), _ref(ref), self._table(job).frame)
            self._forget()  # the last step that needs the table
            return added

        return await self._step(CATALOG, run)

    @activity.defn(name=INGEST_ACTIVITY.format(QUOTA))
    async def quota(self, job: IngestInput, before: int) -> None:
        await self._step(QUOTA, lambda: steps.within_storage(self.stores(), job, before))

    @activity.defn(name=INGEST_ACTIVITY.format("undo_parquet"))
    async def undo_parquet(self, job: IngestInput, ref: dict[str, Any]) -> None:
        self._forget()
        await asyncio.to_thread(steps.undo_parquet, self.stores(), _ref(ref))

    @activity.defn(name=INGEST_ACTIVITY.format("undo_catalog"))
    async def undo_catalog(self, job: IngestInput, ref: dict[str, Any]) -> None:
        await asyncio.to_thread(steps.undo_catalog, self.stores(), _ref(ref))

    # helpers ----------------------------------------------------------------------------------
    def stores(self) -> IngestStores:
        """The stores on the shared data dir, opened once (the catalog checked: a database a
        newer statbot migrated fails the step rather than being guessed at)."""
        with self._lock:
            if self._stores is None:
                if self.catalog_url is not None:
                    from statbot.access.catalog import Catalog

                    catalog = Catalog(self.catalog_url)
                    try:
                        catalog.check()
                    except BaseException:
                        catalog.close()
                        raise
                    self._catalog = catalog
                self._stores = IngestStores.open(self.data_dir, self._catalog)
            return self._stores

    def close(self) -> None:
        with self._lock:
            if self._catalog is not None:
                self._catalog.close()
            self._catalog = self._stores = None
            self._tables.clear()

    async def _step(self, step: str, fn: Callable[[], T]) -> T:
        def run() -> T:
            try:
                done = fn()
            except StatbotError as exc:  # the user's own problem: the same words, no retry
                raise ApplicationError(
                    exc.user_message, str(exc), type=INGEST_REFUSED, non_retryable=True
                ) from exc
            if self.checkpoint is not None:
                self.checkpoint(step)
            return done

        return await asyncio.to_thread(run)

    def _run_key(self) -> str:
        info = activity.info()
        return f"{info.workflow_id}/{info.workflow_run_id}"

    def _keep(self, result: LoadResult) -> LoadResult:
        with self._lock:
            self._tables[self._run_key()] = result
            while len(self._tables) > KEPT_TABLES:
                self._tables.popitem(last=False)
        return result

    def _table(self, job: IngestInput) -> LoadResult:
        """The table ``validate`` loaded for this run, or the file read again."""
        with self._lock:
            kept = self._tables.get(self._run_key())
        return kept if kept is not None else self._keep(steps.validate(job))

    def _forget(self) -> None:
        with self._lock:
            self._tables.pop(self._run_key(), None)


def _ref(data: dict[str, Any]) -> DatasetRef:
    from statbot.analysis.io.datasets import DatasetRef

    return DatasetRef.from_dict(data)
