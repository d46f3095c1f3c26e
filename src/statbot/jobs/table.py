"""The local runner's job table: one SQLite file (WAL) under ``STATBOT_DATA_DIR/jobs``.

Synchronous on purpose: the runner calls it from one dedicated thread so the event loop never
waits on disk. Every state change is one statement or one ``BEGIN IMMEDIATE`` transaction, and the
status changes that race (finish vs cancel) are conditional on the status they expect.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from statbot.jobs.base import JobInfo, JobSpec, JobStatus

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL UNIQUE,
    user_id INTEGER NOT NULL,
    spec TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    crashes INTEGER NOT NULL DEFAULT 0,
    progress REAL NOT NULL DEFAULT 0,
    message TEXT NOT NULL DEFAULT '',
    result TEXT,
    error TEXT,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    pid INTEGER,
    pid_started REAL,
    resume INTEGER NOT NULL DEFAULT 0,
    delivered INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, seq);
CREATE INDEX IF NOT EXISTS jobs_user ON jobs (user_id, seq);
"""
_COLUMNS = (
    "seq, job_id, spec, status, attempts, progress, message, result, error, created_at, "
    "started_at, finished_at, pid, pid_started, resume, delivered, crashes"
)
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
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    # reads ------------------------------------------------------------------------------------
    def get(self, job_id: str) -> JobRow | None:
        rows = self._select("WHERE job_id = ?", (job_id,))
        return rows[0] if rows else None

    def with_status(self, *statuses: JobStatus) -> list[JobRow]:
        if statuses == (JobStatus.QUEUED,):  # the whole queue: positions are the order
            rows = self._select("WHERE status = 'queued' ORDER BY seq", (), positions=False)
            for position, row in enumerate(rows, 1):
                row.info.queue_position = position
            return rows
        marks = ",".join("?" * len(statuses))
        return self._select(f"WHERE status IN ({marks}) ORDER BY seq", [s.value for s in statuses])

    def for_user(self, user_id: int) -> list[JobRow]:
        return self._select("WHERE user_id = ? ORDER BY seq", (user_id,))

    def undelivered(self) -> list[JobRow]:
        return self._select("WHERE delivered = 0 AND status NOT IN (?, ?) ORDER BY seq", _ACTIVE)

    def finished_between(self, start: float, end: float) -> list[str]:
        """Ids of finished jobs with ``start <= finished_at < end``."""
        rows = self._db.execute(
            "SELECT job_id FROM jobs WHERE finished_at >= ? AND finished_at < ? "
            "AND status NOT IN (?, ?)",
            (start, end, *_ACTIVE),
        ).fetchall()
        return [str(r[0]) for r in rows]

    def counts(self) -> dict[str, int]:
        out = {status.value: 0 for status in JobStatus}
        for status, count in self._db.execute("SELECT status, COUNT(*) FROM jobs GROUP BY status"):
            out[str(status)] = int(count)
        return out

    # writes -----------------------------------------------------------------------------------
    def insert(self, spec: JobSpec) -> tuple[JobRow, bool]:
        """Insert a queued job unless its id exists; returns (row, created)."""
        cur = self._db.execute(
            "INSERT INTO jobs (job_id, user_id, spec, status, created_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(job_id) DO NOTHING",
            (spec.job_id, spec.user_id, json.dumps(spec.to_dict()), "queued", time.time()),
        )
        row = self.get(spec.job_id)
        assert row is not None
        return row, cur.rowcount == 1

    def mark_running(self, job_id: str, message: str) -> JobRow | None:
        """queued → running, attempts + 1. None if the job is no longer queued."""
        cur = self._db.execute(
            "UPDATE jobs SET status = 'running', attempts = attempts + 1, started_at = ?, "
            "progress = 0, message = ?, pid = NULL, pid_started = NULL, resume = 0 "
            "WHERE job_id = ? AND status = 'queued'",
            (time.time(), message, job_id),
        )
        return self.get(job_id) if cur.rowcount == 1 else None

    def set_pid(self, job_id: str, pid: int, pid_started: float | None) -> None:
        self._db.execute(
            "UPDATE jobs SET pid = ?, pid_started = ? WHERE job_id = ?", (pid, pid_started, job_id)
        )

    def set_progress(self, job_id: str, progress: float, message: str) -> None:
        self._db.execute(
            "UPDATE jobs SET progress = ?, message = ? WHERE job_id = ? AND status = 'running'",
            (progress, message, job_id),
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
        expected = [s.value for s in expect]
        marks = ",".join("?" * len(expected))
        progress_sql = ", progress = 1" if status is JobStatus.SUCCEEDED else ""
        cur = self._db.execute(
            f"UPDATE jobs SET status = ?, result = ?, error = ?, finished_at = ?, pid = NULL, "
            f"delivered = 0, message = ?{progress_sql} WHERE job_id = ? AND status IN ({marks})",
            (
                status.value,
                json.dumps(result) if result is not None else None,
                error,
                time.time(),
                status.value,
                job_id,
                *expected,
            ),
        )
        return self.get(job_id) if cur.rowcount == 1 else None

    def requeue(self, job_id: str, *, crashed: bool) -> None:
        """running → queued, to be resumed (and announced as resumed) by the next start."""
        self._db.execute(
            "UPDATE jobs SET status = 'queued', pid = NULL, pid_started = NULL, resume = 1, "
            "crashes = crashes + ? WHERE job_id = ? AND status = 'running'",
            (1 if crashed else 0, job_id),
        )

    def mark_delivered(self, job_id: str) -> None:
        self._db.execute("UPDATE jobs SET delivered = 1 WHERE job_id = ?", (job_id,))

    def delete(self, job_ids: Iterable[str]) -> None:
        self._db.executemany("DELETE FROM jobs WHERE job_id = ?", [(j,) for j in job_ids])

    # helpers ----------------------------------------------------------------------------------
    def _select(self, where: str, params: Iterable[Any], *, positions: bool = True) -> list[JobRow]:
        rows = self._db.execute(f"SELECT {_COLUMNS} FROM jobs {where}", tuple(params)).fetchall()
        out = [_row(r) for r in rows]
        for row in out if positions else ():
            if row.info.status is JobStatus.QUEUED:
                (ahead,) = self._db.execute(
                    "SELECT COUNT(*) FROM jobs WHERE status = 'queued' AND seq < ?", (row.seq,)
                ).fetchone()
                row.info.queue_position = int(ahead) + 1
        return out


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
