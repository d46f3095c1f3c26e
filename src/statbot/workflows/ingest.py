"""The ingest saga (issue 14): a file becomes a stored dataset in ordered steps, each with the
compensation that undoes it when a later step fails (``workflows/saga.py``).

=========  ==================================================  ================================
step       does                                                compensation
=========  ==================================================  ================================
stage      fetch the upload into ``staging/<user>/<event id>``  keep it as ``<event id>.failed``
                                                               (``FAILED.json``), for the TTL
validate   read it under the limits and the user's rows quota;  (nothing written)
           the in-memory size limit
parquet    ``datasets/<user>/<digest>.parquet``                 delete the file, if this run
                                                               created it and no row names it
catalog    the ``datasets`` row                                 delete the row, if this run
                                                               wrote it
quota      the user's storage quota, counted with the new file  (nothing written)
attach     the session names the digest, committed by the       see below
           engine with the event
=========  ==================================================  ================================

After ``quota`` the staging folder is removed (``statbot_staging_cleanups_total{outcome=
"success"}``). A server path or a header re-read skips ``stage``.

**Attach is the engine's commit, after the handler returns**, which this module does not see.
The design chosen: the row and the file are complete before the commit (an entry always means a
complete file) and are *unreferenced* until the commit puts the digest into the session; there
is no pending/confirmed state (that would need a hook after the engine's commit, and a
migration, for what a sweep already does). Three ways the commit may not happen:

- the process dies, the store is down, or another replica committed first: the event stays in
  the inbox and is applied again. The saga is idempotent per upload: the staging folder is named
  by the event id (``u<update_id>``) and the dataset by the digest of its bytes (and the header
  row picked), so the replay finds the same file and row and reuses them, and creates no second
  dataset; it compensates nothing it did not write itself.
- the conversation refuses the stored table (/train and a one-column file) or moves on before
  naming it: the event is committed without the reference.
- in both cases what is left unreferenced is removed by ``UserData.sweep_orphans`` (datasets no
  session and no unfinished job names, once older than the session timeout).

A failure the user can fix (a bad file, a limit) keeps its own message; any other (the disk,
the catalog) is an :class:`IngestError` saying, in words, that nothing was kept. A cancellation
(the bot stopping) compensates nothing: the thread running a step cannot be stopped, so undoing
beside it would race it, and the event, not consumed, is applied again (as after a crash).
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from statbot.engine.workflow import Context
from statbot.errors import DataError, StatbotError
from statbot.workflows.loaded import Loaded, conversion_notes, read_notes
from statbot.workflows.saga import Checkpoint, Saga
from statbot.workflows.staging import mark_failed

if TYPE_CHECKING:
    import pandas as pd

    from statbot.workflows.services import Services

SAGA = "ingest"
STAGE, VALIDATE, PARQUET, CATALOG, QUOTA = "stage", "validate", "parquet", "catalog", "quota"
STEPS = (STAGE, VALIDATE, PARQUET, CATALOG, QUOTA)
log = logging.getLogger(__name__)


class IngestError(DataError):
    """A step failed for a reason that is not the file's (disk, catalog); ``step`` names it."""

    def __init__(self, step: str, cause: BaseException) -> None:
        super().__init__(
            f"ingest failed at {step}: {type(cause).__name__}: {cause}",
            user_message=(
                "I could not store your file just now, so I kept nothing of it. "
                "Please send it again in a minute."
            ),
        )
        self.step = step


def new_saga(svc: Services, checkpoint: Checkpoint | None = None) -> Saga:
    return Saga(SAGA, svc.ingest_observer, checkpoint or svc.ingest_checkpoint)


def check_frame_size(frame: Any, name: str, limit_mb: float) -> None:
    """STATBOT_MAX_DATAFRAME_SIZE_MB: the largest table a conversation may hold in memory."""
    from statbot.analysis.errors import DatasetTooLargeError

    size = int(frame.memory_usage(deep=True, index=False).sum())
    if size > limit_mb * 1024 * 1024:
        raise DatasetTooLargeError(name, size, limit_mb)


async def ingest_upload(ctx: Context, checkpoint: Checkpoint | None = None) -> Loaded:
    """The upload of ``ctx.event`` through every step (the handler's ``attach`` follows)."""
    svc: Services = ctx.services  # the data step's caller checked it (data.services)
    upload = ctx.event.upload
    assert upload is not None
    from statbot.engine.files import safe_file_name

    name = safe_file_name(upload.file_name)
    if upload.size > svc.settings.max_file_mb * 2**20:  # refused before any download
        from statbot.analysis.errors import LimitExceeded

        raise LimitExceeded("max_file_mb", svc.settings.max_file_mb, upload.size / 2**20, unit="MB")
    staging = svc.staging_dir(ctx.session.user_id, ctx.event.event_id)
    saga = new_saga(svc, checkpoint)
    saga.on_failure(STAGE, lambda: mark_failed(staging, saga.step_name, _reason(saga.error)))
    try:
        path = await saga.run_async(STAGE, lambda: svc.files.fetch(upload, staging))
        loaded: Loaded = await ctx.run_blocking(
            _store_steps,
            saga,
            svc,
            user_id=ctx.session.user_id,
            path=path,
            name=name,
            source={"upload": upload.to_dict()},
            header_row=None,
        )
    except Exception as exc:
        await ctx.run_blocking(saga.fail, exc)
        _raise_for_user(saga.step_name, exc)
    await ctx.run_blocking(_cleaned, svc, staging)
    return loaded


def store_file(
    svc: Services,
    user_id: int,
    path: Path,
    name: str,
    *,
    source: dict[str, Any] | None = None,
    header_row: int | None = None,
    checkpoint: Checkpoint | None = None,
) -> Loaded:
    """A file already on this machine (a server path; an upload read again with another header
    row) through the saga's steps after ``stage`` (blocking: run it through ``ctx.run_blocking``).
    ``source``: how to fetch the file again; ``header_row``: the row the user picked for the
    column names (None: detected)."""
    saga = new_saga(svc, checkpoint)
    try:
        return _store_steps(
            saga, svc, user_id=user_id, path=path, name=name, source=source, header_row=header_row
        )
    except Exception as exc:
        saga.fail(exc)
        _raise_for_user(saga.step_name, exc)


def _store_steps(
    saga: Saga,
    svc: Services,
    *,
    user_id: int,
    path: Path,
    name: str,
    source: dict[str, Any] | None,
    header_row: int | None,
) -> Loaded:
    from statbot.analysis.io.schema import infer_schema, render_schema
    from statbot.workflows import quota_checks as Q

    store = svc.datasets
    limits = Q.user_limits(svc, user_id)

    def validate() -> Any:
        result = Q.load(svc, user_id, path, header_row=header_row)
        check_frame_size(result.frame, name, svc.settings.max_dataframe_size_mb)
        return result

    result = saga.run(VALIDATE, validate)
    frame: pd.DataFrame = result.frame
    digest = result.content_hash or None
    if digest and header_row is not None:
        # the same bytes read with another header are another table: another stored dataset
        digest = hashlib.sha256(f"{digest}:header_row={header_row}".encode()).hexdigest()
    before = Q.used_bytes(svc, user_id) if limits is not None else 0
    ref, _ = saga.run(
        PARQUET,
        lambda: store.write_parquet(user_id, frame, digest, name),
        lambda done: (lambda: _remove_file(store, done[0])) if done[1] else None,
    )
    saga.run(
        CATALOG,
        lambda: store.add_entry(ref, frame),
        lambda added: (lambda: store.index.remove(ref.user_id, ref.digest)) if added else None,
    )
    saga.run(QUOTA, lambda: _within_storage(svc, user_id, limits, before))
    schema = infer_schema(frame)
    return Loaded(
        ref=ref.to_dict(),
        name=name,
        rows=result.rows,
        columns=[str(c) for c in frame.columns],
        kinds={c.name: c.kind for c in schema.columns},
        warnings=[*conversion_notes(result.conversions), *result.warnings],
        schema_text=render_schema(schema),
        notes=read_notes(result),
        source=dict(source or {}),
        fmt=result.format,
        names_row=result.header_row if result.header else None,
        header_row=header_row,
    )


def _remove_file(store: Any, ref: Any) -> None:
    """Undo ``parquet``: the file this run created, unless a row names it now (the user's
    other chat stored the same bytes meanwhile). When the catalog cannot be asked (it is what
    failed), the file is removed anyway: this run created it, and only that race could make it
    someone else's."""
    try:
        store.remove_file(ref)
    except Exception:  # the catalog's own error type is not this room's to name
        log.warning("catalog unreadable while undoing %s; removing the file", ref.digest[:12])
        store.remove_file(ref, check_index=False)


def _within_storage(svc: Services, user_id: int, limits: Any, before: int) -> None:
    """A dataset that takes the user past the storage quota is refused (its row and file are
    then removed by the compensations); one already stored, which adds nothing, is kept."""
    import math

    from statbot.access.limits import storage_full
    from statbot.workflows.quota_checks import used_bytes

    if limits is None or math.isinf(limits.storage_mb):
        return
    after = used_bytes(svc, user_id)
    if after > limits.storage_bytes and after > before:
        raise storage_full(limits.storage_mb, after, "this dataset was not kept")


def _cleaned(svc: Services, staging: Path) -> None:
    import shutil

    shutil.rmtree(staging, ignore_errors=True)
    if svc.ingest_observer is not None:
        svc.ingest_observer.staging_cleaned("success")


def _reason(error: BaseException | None) -> str:
    if isinstance(error, StatbotError):
        return error.user_message
    return type(error).__name__ if error is not None else ""


def _raise_for_user(step: str, exc: Exception) -> NoReturn:
    """The user's own problem (a StatbotError) as it is; anything else (the disk, the catalog)
    in words."""
    if isinstance(exc, StatbotError):
        raise exc
    log.warning("ingest failed at %s", step, exc_info=exc)  # the user reads words, not this
    raise IngestError(step, exc) from exc
