"""An existing data dir, from before the catalog held the jobs, migrated at upgrade (issue 12):
the old ``jobs/jobs.sqlite3`` is imported once into the catalog (on SQLite and PostgreSQL), kept
until its rows are committed, and never doubled by a second import."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from statbot.access.catalog import Catalog
from statbot.access.legacy import JOBS_FILE, import_data_dir
from statbot.access.models import Job
from statbot.jobs.base import JobSpec, JobStatus
from statbot.jobs.table import JobTable

# The job table's file as statbot wrote it before revision 0003_storage (jobs/table.py then).
OLD_SCHEMA = """
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


def _spec(key: str, user: int) -> JobSpec:
    return JobSpec(kind="train", key=f"telegram:{user}:{user}", user_id=user, idempotency_key=key)


def write_old_jobs(data_dir: Path) -> list[str]:
    """An old data dir's job file: a finished-but-undelivered job, a queued one, one running
    when the old statbot stopped (in that queue order). Returns their ids."""
    path = data_dir / JOBS_FILE
    path.parent.mkdir(parents=True)
    db = sqlite3.connect(path)
    db.executescript(OLD_SCHEMA)
    db.execute("PRAGMA journal_mode=WAL")
    rows = [
        (_spec("done", 7), "succeeded", json.dumps({"model_id": "m1"}), 1.0, 0),
        (_spec("waiting", 8), "queued", None, 0.0, 0),
        (_spec("busy", 7), "running", None, 0.4, 0),
    ]
    for spec, status, result, progress, delivered in rows:
        db.execute(
            "INSERT INTO jobs (job_id, user_id, spec, status, attempts, progress, result, "
            "created_at, finished_at, delivered) VALUES (?, ?, ?, ?, 1, ?, ?, 100, ?, ?)",
            (spec.job_id, spec.user_id, json.dumps(spec.to_dict()), status, progress, result,
             200.0 if status == "succeeded" else None, delivered),
        )  # fmt: skip
    db.commit()
    db.close()
    return [spec.job_id for spec, *_ in rows]


def test_an_old_job_file_is_imported_at_upgrade(tmp_path: Path, catalog_url: str) -> None:
    data_dir = tmp_path / "data"
    ids = write_old_jobs(data_dir)
    catalog = Catalog(catalog_url, data_dir=data_dir)
    try:
        catalog.upgrade()
        table = JobTable(catalog)
        done, waiting, busy = (table.get(i) for i in ids)
        assert done is not None and done.info.status is JobStatus.SUCCEEDED
        assert done.info.result == {"model_id": "m1"} and done.info.spec == _spec("done", 7)
        assert not done.delivered and [r.info.job_id for r in table.undelivered()] == [ids[0]]
        assert waiting is not None and waiting.info.queue_position == 1
        assert busy is not None and busy.info.status is JobStatus.RUNNING
        assert [r.info.job_id for r in table.for_user(7)] == [ids[0], ids[2]]  # old order
        # The old file is kept, renamed, and never read again.
        assert not (data_dir / JOBS_FILE).exists()
        assert (data_dir / "jobs" / "jobs.sqlite3.imported").is_file()
        catalog.upgrade()
        assert _count(catalog) == 3
    finally:
        catalog.close()


def test_a_crash_before_the_rename_does_not_double_the_rows(
    tmp_path: Path, catalog_url: str
) -> None:
    data_dir = tmp_path / "data"
    write_old_jobs(data_dir)
    catalog = Catalog(catalog_url, data_dir=data_dir)
    try:
        catalog.upgrade()
        # As if the process died after the commit and before the rename: the file is back.
        imported = data_dir / "jobs" / "jobs.sqlite3.imported"
        imported.replace(data_dir / JOBS_FILE)
        again = import_data_dir(catalog, data_dir)
        assert again.rows == {"jobs": 0} and _count(catalog) == 3
        assert imported.is_file() and not (data_dir / JOBS_FILE).exists()
    finally:
        catalog.close()


def test_the_old_file_stays_when_the_import_fails(tmp_path: Path, catalog_url: str) -> None:
    data_dir = tmp_path / "data"
    write_old_jobs(data_dir)
    catalog = Catalog(catalog_url)  # migrate first without a data dir: nothing imported
    try:
        catalog.upgrade()
        assert _count(catalog) == 0
        # A row the catalog refuses (here a NULL spec, in a copy of the table without the
        # old NOT NULL): the whole import is one transaction.
        bad = sqlite3.connect(data_dir / JOBS_FILE)
        bad.executescript(
            "CREATE TABLE j2 AS SELECT * FROM jobs; DROP TABLE jobs; "
            "CREATE TABLE jobs AS SELECT * FROM j2; DROP TABLE j2; "
            "UPDATE jobs SET spec = NULL WHERE status = 'queued';"
        )
        bad.close()
        with pytest.raises(sa.exc.IntegrityError):
            import_data_dir(catalog, data_dir)
        assert (data_dir / JOBS_FILE).is_file()  # kept: nothing was imported
        assert _count(catalog) == 0  # one transaction: not the good rows either
    finally:
        catalog.close()


def _count(catalog: Catalog) -> int:
    with catalog.engine.connect() as connection:
        return int(connection.scalar(sa.select(sa.func.count()).select_from(Job)) or 0)


def test_old_dataset_sidecars_are_imported_at_upgrade(tmp_path: Path, catalog_url: str) -> None:
    import pandas as pd

    from statbot.access.storage import CatalogDatasets
    from statbot.analysis.io.datasets import DatasetStore

    data_dir = tmp_path / "data"
    old = DatasetStore(data_dir)  # JSON sidecars, as before the catalog
    refs = [old.put(3, pd.DataFrame({"x": [1.0, 2.0 + i]}), name=f"d{i}.csv") for i in range(2)]
    damaged = old.put(4, pd.DataFrame({"y": [1, 2]}), name="bad.csv")
    bad_sidecar = data_dir / "datasets" / "4" / f"{damaged.digest}.json"
    bad_sidecar.write_text("{not json", encoding="utf-8")
    before = old.list(3)

    catalog = Catalog(catalog_url, data_dir=data_dir)
    try:
        catalog.upgrade()
        store = DatasetStore(data_dir, index=CatalogDatasets(catalog))
        assert store.list(3) == before
        assert [store.get(r).shape for r in refs] == [(2, 1), (2, 1)]
        for ref in refs:
            sidecar = data_dir / "datasets" / "3" / f"{ref.digest}.json"
            assert not sidecar.exists() and sidecar.with_name(sidecar.name + ".imported").exists()
        assert bad_sidecar.exists()  # left for the operator; the bot still starts
        assert (data_dir / "datasets" / ".catalog-imported").is_file()
        assert store.list(4) == []
        catalog.upgrade()  # a second start imports nothing twice
        assert len(store.list(3)) == 2
    finally:
        catalog.close()
