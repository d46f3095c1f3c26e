"""What an older statbot kept in files of the data dir, imported once into the catalog (issue
12: one migration path for everything stored).

:meth:`Catalog.upgrade` calls :func:`import_data_dir` after migrating. Each old file is read,
its rows are written to the catalog in one transaction, and only once that transaction has
committed is the file renamed to ``<name>.imported`` (kept for the operator, never read again).
A crash in between leaves the file where it was: the next start imports it again, and the
rows already there are skipped by their unique keys, so nothing is doubled or lost.

- ``jobs/jobs.sqlite3`` (the local runner's own SQLite file until revision 0003_storage) →
  the ``jobs`` table, in the old queue order;
- ``datasets/<user>/<digest>.json`` (each stored dataset's sidecar) → the ``datasets`` table;
  the Parquet files stay where they are. A sidecar whose Parquet file is gone is left alone.
  Once all are in, ``datasets/.catalog-imported`` records it (the folder is not scanned again);
- ``models/<user>/<model_id>.json`` (each model's card, found by listing them) → the ``models``
  table. The cards stay: they are part of each model (checked at every load). Once the rows
  are committed, ``models/.catalog-imported`` records that the listing was imported.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from statbot.access.catalog import Catalog

log = logging.getLogger(__name__)

IMPORTED_SUFFIX = ".imported"
DATASETS_IMPORTED = Path("datasets") / ".catalog-imported"
MODELS_IMPORTED = Path("models") / ".catalog-imported"
JOBS_FILE = Path("jobs") / "jobs.sqlite3"
_JOB_COLUMNS = (
    "job_id", "user_id", "spec", "status", "attempts", "crashes", "progress", "message", "result",
    "error", "created_at", "started_at", "finished_at", "pid", "pid_started", "resume",
    "delivered",
)  # fmt: skip


@dataclass
class Imported:
    """What one :func:`import_data_dir` did: rows written per table, files renamed."""

    rows: dict[str, int] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)


def import_data_dir(catalog: Catalog, data_dir: Path) -> Imported:
    """Import every old file still in ``data_dir`` whose table the catalog has now."""
    import sqlalchemy as sa

    done = Imported()
    tables = set(sa.inspect(catalog.engine).get_table_names())
    old_jobs = data_dir / JOBS_FILE
    if "jobs" in tables and old_jobs.is_file():
        done.rows["jobs"] = _import_jobs(catalog, old_jobs)
        _retire(old_jobs)
        done.files.append(old_jobs)
        log.info("imported %d jobs from %s into the catalog", done.rows["jobs"], old_jobs)
    datasets_done = data_dir / DATASETS_IMPORTED
    if "datasets" in tables and (data_dir / "datasets").is_dir() and not datasets_done.exists():
        sidecars = _sidecars(data_dir / "datasets")
        done.rows["datasets"], read = _import_datasets(catalog, sidecars)
        for sidecar in read:
            _retire(sidecar)
        done.files.extend(read)
        # Not scanned again at every start (a folder per user): the app writes no sidecars.
        datasets_done.write_text("the dataset sidecars of this folder are in the catalog\n")
        log.info("imported %d dataset entries into the catalog", done.rows["datasets"])
    marker = data_dir / MODELS_IMPORTED
    if "models" in tables and (data_dir / "models").is_dir() and not marker.exists():
        done.rows["models"] = _import_models(catalog, data_dir / "models")
        marker.write_text("the model cards of this folder are listed in the catalog\n")
        done.files.append(marker)
        log.info("imported %d models into the catalog", done.rows["models"])
    return done


def _import_models(catalog: Catalog, root: Path) -> int:
    import sqlalchemy as sa

    from statbot.access.models import SavedModel
    from statbot.access.storage import model_row
    from statbot.analysis.ml.card import ModelCard
    from statbot.errors import ModelError

    table = cast(sa.Table, SavedModel.__table__)
    rows = []
    for card_path in sorted(root.glob("*/*.json")):
        if not card_path.with_suffix(".skops").is_file():
            continue  # a card without its model: SavedModels never listed it either
        try:
            card = ModelCard.from_json(card_path.read_text(encoding="utf-8")).to_dict()
            rows.append(model_row(card_path.parent.name, {**card, "model_id": card_path.stem}))
        except (OSError, ValueError, ModelError) as exc:
            log.warning("not importing the damaged model card %s: %s", card_path, exc)
    with catalog.engine.begin() as connection:
        have = {(str(r[0]), str(r[1])) for r in connection.execute(
            sa.select(table.c.user_id, table.c.model_id)
        )}  # fmt: skip
        new = [r for r in rows if (r["user_id"], r["model_id"]) not in have]
        if new:
            connection.execute(table.insert(), new)
    return len(new)


def _sidecars(root: Path) -> list[Path]:
    """The old index files whose dataset is still there (``<user>/<digest>.json``)."""
    if not root.is_dir():
        return []
    return [
        sidecar
        for sidecar in sorted(root.glob("*/*.json"))
        if sidecar.with_suffix(".parquet").is_file()
    ]


def _import_datasets(catalog: Catalog, sidecars: list[Path]) -> tuple[int, list[Path]]:
    """Rows written, and the sidecars read (a damaged one is logged and left where it is: the
    bot must not refuse to start over one file; the store lists it no more than before)."""
    import json

    import sqlalchemy as sa

    from statbot.access.models import Dataset
    from statbot.access.storage import dataset_row

    table = cast(sa.Table, Dataset.__table__)
    rows, read = [], []
    for sidecar in sidecars:
        try:
            entry = json.loads(sidecar.read_text(encoding="utf-8"))
            entry.setdefault("size_bytes", sidecar.with_suffix(".parquet").stat().st_size)
            rows.append(dataset_row(sidecar.parent.name, sidecar.stem, entry))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("not importing the damaged dataset sidecar %s: %s", sidecar, exc)
            continue
        read.append(sidecar)
    with catalog.engine.begin() as connection:
        have = {(str(r[0]), str(r[1])) for r in connection.execute(
            sa.select(table.c.user_id, table.c.digest)
        )}  # fmt: skip
        new = [r for r in rows if (r["user_id"], r["digest"]) not in have]
        if new:
            connection.execute(table.insert(), new)
    return len(new), read


def _import_jobs(catalog: Catalog, path: Path) -> int:
    import sqlalchemy as sa

    from statbot.access.models import Job

    rows = _read_rows(path, "jobs", _JOB_COLUMNS)
    table = cast(sa.Table, Job.__table__)
    with catalog.engine.begin() as connection:
        have = {str(r[0]) for r in connection.execute(sa.select(table.c.job_id))}
        new = [_job(row) for row in rows if str(row["job_id"]) not in have]
        if new:  # in the old seq order, so the queue keeps its order
            connection.execute(table.insert(), new)
    return len(new)


# Columns an older file may lack (added to its schema later), and what they meant then.
_JOB_DEFAULTS: dict[str, Any] = {
    "attempts": 0, "crashes": 0, "progress": 0.0, "message": "", "resume": 0, "delivered": 0,
}  # fmt: skip


def _job(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: (_JOB_DEFAULTS[k] if v is None and k in _JOB_DEFAULTS else v) for k, v in row.items()}
    out["resume"], out["delivered"] = bool(out["resume"]), bool(out["delivered"])
    return out


def _read_rows(path: Path, table: str, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    connection = sqlite3.connect(str(path))
    try:
        names = {r[1] for r in connection.execute(f"PRAGMA table_info({table})")}
        if not names:
            return []  # an empty file (created, never written)
        select = ", ".join(c if c in names else "NULL" for c in columns)
        cursor = connection.execute(f"SELECT {select} FROM {table} ORDER BY rowid")
        return [dict(zip(columns, r, strict=True)) for r in cursor]
    finally:
        connection.close()


def _retire(path: Path) -> None:
    """``x`` → ``x.imported`` (its -wal/-shm companions too, if SQLite left any)."""
    for companion in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if companion.exists():
            companion.replace(companion.with_name(companion.name + IMPORTED_SUFFIX))
    path.replace(path.with_name(path.name + IMPORTED_SUFFIX))
