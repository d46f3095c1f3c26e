"""What workflows may use besides the engine: settings, files, datasets, models, jobs.

Built once by the app and handed to the StateManager, which passes it to every handler as
``ctx.services``. Analysis objects are created on first use so the bot starts fast.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from statbot.engine.files import FileSource, LocalFiles

if TYPE_CHECKING:
    from statbot.access.broadcaster import Broadcaster
    from statbot.access.catalog import Catalog
    from statbot.access.directory import Directory
    from statbot.analysis.io.datasets import DatasetStore
    from statbot.analysis.ml.saved import SavedModels
    from statbot.config import Settings
    from statbot.jobs.base import JobRunner
    from statbot.jobs.saga import Checkpoint, SagaObserver
    from statbot.kb import KnowledgeBase, ReadCounts


@dataclass
class Services:
    settings: Settings
    data_dir: Path
    files: FileSource = field(default_factory=LocalFiles)
    jobs: JobRunner | None = None  # the job runner statbot.wiring built (None: no jobs here)
    catalog: Catalog | None = None  # users, roles, ledger (issue 12); statbot.wiring opens it
    access: Directory | None = None  # users, roles, audit on the catalog (statbot.wiring)
    broadcasts: Broadcaster | None = None  # /broadcast's sender (issue 12), built by the wiring
    ingest_observer: SagaObserver | None = None  # the ingest saga's metrics (the app's Metrics)
    ingest_checkpoint: Checkpoint | None = None  # the tests' failure injection (jobs/saga)

    @cached_property
    def datasets(self) -> DatasetStore:
        """The dataset store, indexed on the catalog (issue 12) when the app opened one; JSON
        sidecars otherwise (tests and tools that build Services without a catalog)."""
        from statbot.analysis.io.datasets import DatasetStore

        if self.catalog is None:
            return DatasetStore(self.data_dir)
        from statbot.access.storage import CatalogDatasets

        return DatasetStore(self.data_dir, index=CatalogDatasets(self.catalog))

    @cached_property
    def models(self) -> SavedModels:
        """The saved models, listed from the catalog (issue 12) when the app opened one; from
        their card files otherwise."""
        from statbot.analysis.ml.saved import SavedModels

        if self.catalog is None:
            return SavedModels(self.data_dir)
        from statbot.access.storage import CatalogModels

        return SavedModels(self.data_dir, index=CatalogModels(self.catalog))

    @cached_property
    def kb(self) -> KnowledgeBase:
        """The knowledge base (issue 13), loaded and indexed on first use (~0.1 s)."""
        from statbot.kb import KnowledgeBase

        return KnowledgeBase.load()

    @cached_property
    def kb_reads(self) -> ReadCounts:
        """How often each entry was read (``STATBOT_DATA_DIR/kb/reads.sqlite``)."""
        from statbot.kb import ReadCounts

        return ReadCounts.in_data_dir(self.data_dir)

    def job_runner(self) -> JobRunner:
        """The job runner, or a clear refusal where none runs (``statbot chat`` beside a
        running bot on the same data dir, whose runner owns the jobs)."""
        if self.jobs is None:
            from statbot.errors import JobError

            raise JobError(
                "no job runner here",
                user_message="Background jobs are not available here, so I cannot train now.",
            )
        return self.jobs

    def staging_dir(self, user_id: int, upload_id: str | None = None) -> Path:
        """``STATBOT_DATA_DIR/staging/<user>/<upload>``: where an upload waits to be loaded."""
        return self.data_dir / "staging" / str(user_id) / (upload_id or uuid.uuid4().hex[:12])
