"""The ingest saga (issue 14): a file becomes a stored dataset in ordered steps, each with the
compensation that undoes it when a later step fails (``jobs/saga.py``).

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

**Where the steps run.** ``stage`` (the channel's download) always runs here, in the bot; the
steps after it are :mod:`statbot.jobs.ingest`'s, on plain inputs, run by the job runner
(:meth:`statbot.jobs.base.JobRunner.ingest`): inline in a thread with the local runner (or
none), as an ``IngestWorkflow`` with one activity a step on Temporal (``STATBOT_JOBS=temporal``,
:mod:`statbot.jobs.temporal.ingest`; its compensations run there, its outcome comes back here,
where the metrics are counted and the staging folder kept or removed). This module keeps the
chat's side: the download, the limits from the user's quotas, the words.

A failure the user can fix (a bad file, a limit) keeps its own message; any other (the disk,
the catalog) is an :class:`IngestError` saying, in words, that nothing was kept. A cancellation
(the bot stopping) compensates nothing: the thread running a step cannot be stopped, so undoing
beside it would race it, and the event, not consumed, is applied again (as after a crash).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from statbot.engine.workflow import Context
from statbot.errors import DataError, StatbotError
from statbot.jobs.ingest import (
    CATALOG,
    PARQUET,
    QUOTA,
    SAGA,
    STAGE,
    STEPS,
    VALIDATE,
    IngestFailed,
    IngestInput,
    IngestStores,
    Stored,
    run_steps,
)
from statbot.jobs.ingest import check_frame_size as check_frame_size  # noqa: PLC0414
from statbot.jobs.saga import Checkpoint, Saga
from statbot.workflows.loaded import Loaded, conversion_notes, read_notes
from statbot.workflows.staging import mark_failed

if TYPE_CHECKING:
    from statbot.workflows.services import Services

__all__ = [
    "CATALOG",
    "PARQUET",
    "QUOTA",
    "STAGE",
    "STEPS",
    "VALIDATE",
    "IngestError",
    "check_frame_size",
    "ingest_upload",
    "new_saga",
    "store_file",
]
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
        job = await ctx.run_blocking(_job, svc, ctx, Path(path), name, None)
        stored = await _steps(ctx, saga, job)
    except Exception as exc:
        await ctx.run_blocking(saga.fail, exc)
        _raise_for_user(saga.step_name, exc)
    await ctx.run_blocking(_cleaned, svc, staging)
    return _loaded(stored, name, {"upload": upload.to_dict()}, None)


async def store_file(
    ctx: Context,
    path: Path,
    name: str,
    *,
    source: dict[str, Any] | None = None,
    header_row: int | None = None,
    checkpoint: Checkpoint | None = None,
) -> Loaded:
    """A file already on this machine (a server path; an upload read again with another header
    row) through the saga's steps after ``stage``, for ``ctx``'s user and event. ``source``:
    how to fetch the file again; ``header_row``: the row the user picked for the column names
    (None: detected)."""
    svc: Services = ctx.services
    saga = new_saga(svc, checkpoint)
    try:
        job = await ctx.run_blocking(_job, svc, ctx, path, name, header_row)
        stored = await _steps(ctx, saga, job)
    except Exception as exc:
        await ctx.run_blocking(saga.fail, exc)
        _raise_for_user(saga.step_name, exc)
    return _loaded(stored, name, source, header_row)


def _job(svc: Services, ctx: Context, path: Path, name: str, header_row: int | None) -> IngestInput:
    """The steps' input: the file, and the user's limits as numbers (blocking: the catalog)."""
    from statbot.workflows import quota_checks as Q

    user_id = ctx.session.user_id
    bounded, limits = Q.user_data_limits(svc, user_id)
    return IngestInput(
        user_id=user_id,
        path=str(Path(path).absolute()),
        name=name,
        event_id=ctx.event.event_id,
        header_row=header_row,
        limits=IngestInput.limits_of(bounded),
        quota_rows=Q.quota_rows(svc, limits),
        storage_mb=Q.storage_limit_mb(limits),
        max_frame_mb=svc.settings.max_dataframe_size_mb,
    )


async def _steps(ctx: Context, saga: Saga, job: IngestInput) -> Stored:
    """The steps after ``stage``: the job runner's (inline, or a Temporal workflow); inline
    here where there is none (``statbot chat`` beside a running bot)."""
    svc: Services = ctx.services
    stores = IngestStores(svc.datasets, svc.models)
    if svc.jobs is not None:
        return await svc.jobs.ingest(job, saga, stores)
    return await ctx.run_blocking(run_steps, saga, stores, job)


def _loaded(
    stored: Stored, name: str, source: dict[str, Any] | None, header_row: int | None
) -> Loaded:
    return Loaded(
        ref=stored.ref,
        name=name,
        rows=stored.rows,
        columns=list(stored.columns),
        kinds=dict(stored.kinds),
        warnings=[*conversion_notes(stored.conversions), *stored.warnings],
        schema_text=stored.schema_text,
        notes=read_notes(stored),
        source=dict(source or {}),
        fmt=stored.fmt,
        names_row=stored.header_row if stored.header else None,
        header_row=header_row,
    )


def _cleaned(svc: Services, staging: Path) -> None:
    import shutil

    shutil.rmtree(staging, ignore_errors=True)
    if svc.ingest_observer is not None:
        svc.ingest_observer.staging_cleaned("success")


def _reason(error: BaseException | None) -> str:
    if isinstance(error, StatbotError):
        return error.user_message
    if isinstance(error, IngestFailed):
        return error.user_message or error.detail
    return type(error).__name__ if error is not None else ""


def _raise_for_user(step: str, exc: Exception) -> NoReturn:
    """The user's own problem (a StatbotError, or a workflow's refusal in its words) as it is;
    anything else (the disk, the catalog) in words."""
    if isinstance(exc, StatbotError):
        raise exc
    if isinstance(exc, IngestFailed) and exc.user_message is not None:
        raise DataError(exc.detail, user_message=exc.user_message) from exc
    log.warning("ingest failed at %s", step, exc_info=exc)  # the user reads words, not this
    raise IngestError(step, exc) from exc
