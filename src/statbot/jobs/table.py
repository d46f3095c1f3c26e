"""The local runner's job table: the ``jobs`` table of the catalog database (issue 12; it was
its own SQLite file, ``STATBOT_DATA_DIR/jobs/jobs.sqlite3``, which statbot.access.legacy imports
once).

Synchronous on purpose: the runner calls it from one dedicated thread so the event loop never
waits on the database. Every state change is one statement in its own transaction, and the
status changes that race (finish vs cancel) are conditional on the status they expect.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa

from statbot.access.models import Job
from statbot.jobs.base import JobInfo, JobSpec, JobStatus

if TYPE_CHECKING:
    from statbot.access.catalog import Catalog

_T = cast(sa.Table, Job.__table__)
_COLUMNS = [
    _T.c[name]
    for name in (
        "seq", "job_id", "spec", "status", "attempts", "progress", "message", "result", "error",
        "created_at", "started_at", "finished_at", "pid", "pid_started", "resume", "delivered",
        "crashes",
    )
]  # fmt: skip
_ACTIVE = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)


@dataclass(slots=True)
class JobRow:
    """A job plus the local runner's bookkeeping columns."""

    info: JobInfo
    seq: int
    pid: int | None = None
    pid_started: float | None = None
    resume: bool = False  # the next start announces "resumed"
    delivered: bool = False  # JOB_FINISHED accepted by ``emit``
    crashes: int = 0  # runs lost to a crash of the runner's process


class JobTable:
    """The job rows on an open (migrated) catalog; :meth:`close` is the catalog owner's."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._engine = catalog.engine

    def close(self) -> None:
        """Nothing to close here: the runner closes the catalog it opened (LocalJobRunner)."""

    # reads ------------------------------------------------------------------------------------
    def get(self, job_id: str) -> JobRow | None:
        rows = self._select(_T.c.job_id == job_id)
        return rows[0] if rows else None

    def with_status(self, *statuses: JobStatus) -> list[JobRow]:
        if statuses == (JobStatus.QUEUED,):  # the whole queue: positions are the order
            rows = self._select(_T.c.status == "queued", positions=False)
            for position, row in enumerate(rows, 1):
                row.info.queue_position = position
            return rows
        return self._select(_T.c.status.in_([s.value for s in statuses]))

    def for_user(self, user_id: int) -> list[JobRow]:
        return self._select(_T.c.user_id == user_id)

    def undelivered(self) -> list[JobRow]:
        return self._select(sa.and_(_T.c.delivered.is_(False), _T.c.status.not_in(_ACTIVE)))

    def finished_between(self, start: float, end: float) -> list[str]:
        """Ids of finished jobs with ``start <= finished_at < end``."""
        query = sa.select(_T.c.job_id).where(
            _T.c.finished_at >= start, _T.c.finished_at < end, _T.c.status.not_in(_ACTIVE)
        )
        with self._engine.connect() as connection:
            return [str(r[0]) for r in connection.execute(query)]

    def counts(self) -> dict[str, int]:
        out = {status.value: 0 for status in JobStatus}
        query = sa.select(_T.c.status, sa.func.count()).group_by(_T.c.status)
        with self._engine.connect() as connection:
            for status, count in connection.execute(query):
                out[str(status)] = int(count)
        return out

    # writes -----------------------------------------------------------------------------------
    def insert(self, spec: JobSpec) -> tuple[JobRow, bool]:
        """Insert a queued job unless its id exists; returns (row, created)."""
        values = {
            "job_id": spec.job_id,
            "user_id": spec.user_id,
            "spec": json.dumps(spec.to_dict()),
            "status": "queued",
            "attempts": 0,
            "crashes": 0,
            "progress": 0.0,
            "message": "",
            "created_at": time.time(),
            "resume": False,
            "delivered": False,
        }
        statement = _insert_ignoring(self._engine.dialect.name, values)
        with self._engine.begin() as connection:
            # RETURNING, not rowcount: the driver's rowcount of an INSERT is not reliable.
            created = connection.execute(statement).first() is not None
        row = self.get(spec.job_id)
        assert row is not None
        return row, created

    def mark_running(self, job_id: str, message: str) -> JobRow | None:
        """queued → running, attempts + 1. None if the job is no longer queued."""
        changed = self._update(
            sa.and_(_T.c.job_id == job_id, _T.c.status == "queued"),
            status="running",
            attempts=_T.c.attempts + 1,
            started_at=time.time(),
            progress=0.0,
            message=message,
            pid=None,
            pid_started=None,
            resume=False,
        )
        return self.get(job_id) if changed == 1 else None

    def set_pid(self, job_id: str, pid: int, pid_started: float | None) -> None:
        self._update(_T.c.job_id == job_id, pid=pid, pid_started=pid_started)

    def set_progress(self, job_id: str, progress: float, message: str) -> None:
        self._update(
            sa.and_(_T.c.job_id == job_id, _T.c.status == "running"),
            progress=progress,
            message=message,
        )

    def finish(
        self,
        job_id: str,
        status: JobStatus,
        *,
        result: dict[str, Any] | None = None,
        error: str | None = None,
        expect: Iterable[JobStatus] = (JobStatus.QUEUED, JobStatus.RUNNING),
    ) -> JobRow | None:
        """Record the outcome if the job is still in one of ``expect``; None otherwise."""
        values: dict[str, Any] = {
            "status": status.value,
            "result": json.dumps(result) if result is not None else None,
            "error": error,
            "finished_at": time.time(),
            "pid": None,
            "delivered": False,
            "message": status.value,
        }
        if status is JobStatus.SUCCEEDED:
            values["progress"] = 1.0
        where = sa.and_(_T.c.job_id == job_id, _T.c.status.in_([s.value for s in expect]))
        return self.get(job_id) if self._update(where, **values) == 1 else None

    def requeue(self, job_id: str, *, crashed: bool) -> None:
        """running → queued, to be resumed (and announced as resumed) by the next start."""
        self._update(
            sa.and_(_T.c.job_id == job_id, _T.c.status == "running"),
            status="queued",
            pid=None,
            pid_started=None,
            resume=True,
            crashes=_T.c.crashes + (1 if crashed else 0),
        )

    def mark_delivered(self, job_id: str) -> None:
        self._update(_T.c.job_id == job_id, delivered=True)

    def delete(self, job_ids: Iterable[str]) -> None:
        ids = list(job_ids)
        if ids:
            self._write(sa.delete(_T).where(_T.c.job_id.in_(ids)))

    # helpers ----------------------------------------------------------------------------------
    def _update(self, where: sa.ColumnElement[bool], **values: Any) -> int:
        return self._write(sa.update(_T).where(where).values(**values))

    def _write(self, statement: sa.Executable) -> int:
        with self._engine.begin() as connection:
            return int(connection.execute(statement).rowcount)  # type: ignore[attr-defined]

    def _select(self, where: sa.ColumnElement[bool], *, positions: bool = True) -> list[JobRow]:
        query = sa.select(*_COLUMNS).where(where).order_by(_T.c.seq)
        with self._engine.connect() as connection:
            out = [_row(tuple(r)) for r in connection.execute(query)]
            for row in out if positions else ():
                if row.info.status is JobStatus.QUEUED:
                    ahead = connection.scalar(
                        sa.select(sa.func.count())
                        .select_from(_T)
                        .where(_T.c.status == "queued", _T.c.seq < row.seq)
                    )
                    row.info.queue_position = int(ahead or 0) + 1
        return out


def _insert_ignoring(dialect: str, values: dict[str, Any]) -> sa.Executable:
    """INSERT ... ON CONFLICT (job_id) DO NOTHING RETURNING seq, in the dialect's words (a row
    back: inserted; none: the id was there)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        pg = pg_insert(_T).values(values).on_conflict_do_nothing(index_elements=["job_id"])
        return pg.returning(_T.c.seq)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    lite = sqlite_insert(_T).values(values).on_conflict_do_nothing(index_elements=["job_id"])
    return lite.returning(_T.c.seq)


def _row(r: tuple[Any, ...]) -> JobRow:
    (seq, job_id, spec, status, attempts, progress, message, result, error, created_at,
     started_at, finished_at, pid, pid_started, resume, delivered, crashes) = r  # fmt: skip
    info = JobInfo(
        job_id=job_id,
        spec=JobSpec.from_dict(json.loads(spec)),
        status=JobStatus(status),
        attempts=int(attempts),
        progress=float(progress),
        message=str(message),
        result=json.loads(result) if result is not None else None,
        error=error,
        created_at=float(created_at),
        started_at=started_at,
        finished_at=finished_at,
    )
    return JobRow(
        info=info,
        seq=int(seq),
        pid=pid,
        pid_started=pid_started,
        resume=bool(resume),
        delivered=bool(delivered),
        crashes=int(crashes),
    )
