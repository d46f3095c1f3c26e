"""The ingest saga's steps after ``stage`` (issue 14), on plain inputs: what the chat runs
inline (``workflows/ingest.py``, no job runner or the local one) and what the Temporal worker
runs as one activity a step (:mod:`statbot.jobs.temporal.ingest`).

The input (:class:`IngestInput`) is numbers and names only: the file, the user, the header row
picked, the operator's data limits and the user's quotas, computed by the chat beforehand. The
output (:class:`Stored`) is what the chat needs to name the dataset in the session; the words
the user reads are the chat's (``workflows/ingest.py``). The steps:

- ``validate``: read the file under the limits (the user's rows quota in its own words) and the
  in-memory size limit, and name the dataset (the digest of its bytes and the header row);
- ``parquet``: ``datasets/<user>/<digest>.parquet`` (undo: :func:`undo_parquet`);
- ``catalog``: the ``datasets`` row (undo: :func:`undo_catalog`);
- ``quota``: the user's storage quota, counted with the new file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from statbot.errors import StatbotError

if TYPE_CHECKING:
    from statbot.access.catalog import Catalog
    from statbot.analysis.errors import LimitExceeded
    from statbot.analysis.io import LoadResult
    from statbot.analysis.io.datasets import DatasetRef, DatasetStore
    from statbot.analysis.io.limits import DataLimits
    from statbot.analysis.ml.saved import SavedModels
    from statbot.jobs.saga import Saga

SAGA = "ingest"
STAGE, VALIDATE, PARQUET, CATALOG, QUOTA = "stage", "validate", "parquet", "catalog", "quota"
STEPS = (STAGE, VALIDATE, PARQUET, CATALOG, QUOTA)
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class IngestInput:
    """One file to store. ``event_id``: the event that brought it (the workflow's id is made
    of it: a replayed event starts nothing new); ``header_row``: the row the user picked for
    the column names (None: detected); ``limits``: the operator's :class:`DataLimits` as a
    dict; ``quota_rows``: the user's rows per dataset where that, not the operator's limit, is
    the bound (its refusal is worded as the quota's); ``storage_mb``: the user's storage quota
    (None: none); ``max_frame_mb``: STATBOT_MAX_DATAFRAME_SIZE_MB."""

    user_id: int
    path: str
    name: str
    event_id: str = ""
    header_row: int | None = None
    limits: dict[str, float] = field(default_factory=dict)
    quota_rows: int | None = None
    storage_mb: float | None = None
    max_frame_mb: float = 1024.0

    def data_limits(self) -> DataLimits:
        from statbot.analysis.io.limits import DataLimits

        return DataLimits(**self.limits)  # type: ignore[arg-type]

    @staticmethod
    def limits_of(limits: DataLimits) -> dict[str, float]:
        return dataclasses.asdict(limits)


@dataclass(frozen=True, slots=True)
class Stored:
    """A stored dataset as the chat names it. ``header_row``/``header``: where the loader
    found the column names (as :class:`~statbot.analysis.io.LoadResult` says it);
    ``warnings`` and ``conversions``: the loader's sentences."""

    ref: dict[str, Any]
    rows: int
    columns: list[str]
    kinds: dict[str, str]
    schema_text: str = ""
    warnings: list[str] = field(default_factory=list)
    conversions: list[str] = field(default_factory=list)
    fmt: str = ""
    header_row: int | None = None
    header: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Stored:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def with_ref(self, ref: dict[str, Any]) -> Stored:
        return dataclasses.replace(self, ref=dict(ref))


@dataclass
class IngestStores:
    """Where the steps write: the dataset store and the saved models (the storage quota counts
    both). The chat hands in its own; a worker opens them on the shared data dir and the
    catalog (:meth:`open`)."""

    datasets: DatasetStore
    models: SavedModels

    @classmethod
    def open(cls, data_dir: Path, catalog: Catalog | None) -> IngestStores:
        from statbot.analysis.io.datasets import DatasetStore
        from statbot.analysis.ml.saved import SavedModels

        if catalog is None:
            return cls(DatasetStore(data_dir), SavedModels(data_dir))
        from statbot.access.storage import CatalogDatasets, CatalogModels

        return cls(
            DatasetStore(data_dir, index=CatalogDatasets(catalog)),
            SavedModels(data_dir, index=CatalogModels(catalog)),
        )

    def used_bytes(self, user_id: int) -> int:
        """The user's datasets and models on disk: what the storage quota counts."""
        return self.datasets.user_bytes(user_id) + self.models.user_bytes(user_id)


class IngestFailed(Exception):
    """The steps failed where the chat cannot see them (a workflow): at ``step``, having
    undone ``undone`` there. ``user_message``: the user's own problem (a bad file, a limit) in
    the words it had; None for any other failure (``detail`` says which, for the log)."""

    def __init__(self, step: str, undone: list[str], user_message: str | None, detail: str) -> None:
        super().__init__(f"ingest failed at {step or 'an unknown step'}: {detail}")
        self.step, self.undone = step, list(undone)
        self.user_message, self.detail = user_message, detail


# --- the steps (blocking: a thread or an activity runs them) ------------------------------------
def rows_refusal(exc: LimitExceeded, quota_rows: int | None) -> StatbotError:
    """A ``max_rows`` refusal in the quota's words when the user's quota was the bound."""
    from statbot.access.limits import too_many_rows

    if quota_rows is not None and exc.limit == "max_rows":
        return too_many_rows(quota_rows, exc.actual)
    return exc


def check_frame_size(frame: Any, name: str, limit_mb: float) -> None:
    """STATBOT_MAX_DATAFRAME_SIZE_MB: the largest table a conversation may hold in memory."""
    from statbot.analysis.errors import DatasetTooLargeError

    size = int(frame.memory_usage(deep=True, index=False).sum())
    if size > limit_mb * 1024 * 1024:
        raise DatasetTooLargeError(name, size, limit_mb)


def validate(job: IngestInput) -> LoadResult:
    from statbot.analysis.errors import LimitExceeded
    from statbot.analysis.io import load_path

    try:
        result = load_path(Path(job.path), job.data_limits(), header_row=job.header_row)
    except LimitExceeded as exc:
        raise rows_refusal(exc, job.quota_rows) from exc
    check_frame_size(result.frame, job.name, job.max_frame_mb)
    return result


def digest_of(result: LoadResult, header_row: int | None) -> str:
    """The dataset's name in the store: the digest of the file's bytes (of the frame when the
    loader has none); the same bytes read with another header row are another table."""
    from statbot.analysis.io.datasets import frame_hash

    digest = (result.content_hash or frame_hash(result.frame)).lower()
    if header_row is not None:
        digest = hashlib.sha256(f"{digest}:header_row={header_row}".encode()).hexdigest()
    return digest


def summary(result: LoadResult) -> Stored:
    """What the chat names of a loaded table (its ``ref`` comes with the ``parquet`` step)."""
    from statbot.analysis.io.schema import infer_schema, render_schema

    frame = result.frame
    schema = infer_schema(frame)
    return Stored(
        ref={},
        rows=result.rows,
        columns=[str(c) for c in frame.columns],
        kinds={c.name: c.kind for c in schema.columns},
        schema_text=render_schema(schema),
        warnings=list(result.warnings),
        conversions=list(result.conversions),
        fmt=result.format,
        header_row=result.header_row,
        header=result.header,
    )


def write_parquet(
    stores: IngestStores, job: IngestInput, frame: Any, digest: str
) -> tuple[DatasetRef, bool]:
    """The Parquet file, and whether this call created it."""
    return stores.datasets.write_parquet(job.user_id, frame, digest, job.name)


def stored_already(stores: IngestStores, ref: DatasetRef) -> bool:
    """Whether a row names the dataset (stored before: nothing of it is this run's to undo)."""
    return stores.datasets.index.get(ref.user_id, ref.digest) is not None


def undo_parquet(stores: IngestStores, ref: DatasetRef) -> None:
    """Undo ``parquet``: the file, unless a row names it now (the user's other chat stored the
    same bytes meanwhile). When the catalog cannot be asked (it is what failed), the file is
    removed anyway: this run wrote it, and only that race could make it someone else's."""
    try:
        stores.datasets.remove_file(ref)
    except Exception:  # the catalog's own error type is not this room's to name
        log.warning("catalog unreadable while undoing %s; removing the file", ref.digest[:12])
        stores.datasets.remove_file(ref, check_index=False)


def add_entry(stores: IngestStores, ref: DatasetRef, frame: Any) -> bool:
    """The catalog row, and whether this call wrote it."""
    return stores.datasets.add_entry(ref, frame)


def undo_catalog(stores: IngestStores, ref: DatasetRef) -> None:
    stores.datasets.index.remove(ref.user_id, ref.digest)


def within_storage(stores: IngestStores, job: IngestInput, before: int) -> None:
    """A dataset that takes the user past the storage quota is refused (its row and file are
    then removed by the compensations); one already stored, which adds nothing, is kept."""
    from statbot.access.limits import MB, storage_full

    if job.storage_mb is None or math.isinf(job.storage_mb):
        return
    after = stores.used_bytes(job.user_id)
    if after > job.storage_mb * MB and after > before:
        raise storage_full(job.storage_mb, after, "this dataset was not kept")


def used_before(stores: IngestStores, job: IngestInput) -> int:
    """The user's storage before the new file (what ``quota`` compares with)."""
    return stores.used_bytes(job.user_id) if job.storage_mb is not None else 0


def run_steps(saga: Saga, stores: IngestStores, job: IngestInput) -> Stored:
    """Every step in this thread, each compensation registered once its step is done (the
    caller runs ``saga.fail`` when this raises)."""
    result = saga.run(VALIDATE, lambda: validate(job))
    digest = digest_of(result, job.header_row)
    before = used_before(stores, job)
    ref, _ = saga.run(
        PARQUET,
        lambda: write_parquet(stores, job, result.frame, digest),
        lambda done: (lambda: undo_parquet(stores, done[0])) if done[1] else None,
    )
    saga.run(
        CATALOG,
        lambda: add_entry(stores, ref, result.frame),
        lambda added: (lambda: undo_catalog(stores, ref)) if added else None,
    )
    saga.run(QUOTA, lambda: within_storage(stores, job, before))
    return summary(result).with_ref(ref.to_dict())
