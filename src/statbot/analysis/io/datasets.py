"""Datasets stored as Parquet under ``<data_dir>/datasets/<user>/<hash>.parquet`` (DESIGN, 4).

Each dataset is one Parquet file plus a small JSON sidecar (name, rows, columns, schema, created).
Both are written to a temporary file, flushed, and renamed into place; the sidecar is written last,
so a sidecar on disk always means a complete Parquet file. The file name is a content hash:
storing the same content twice for the same user returns the existing reference (idempotent, so
a replayed upload or a retried job does not duplicate data).

Frames are never pickled; sessions hold only :class:`DatasetRef` (JSON-able).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import shutil
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from statbot.analysis._atomic import write_atomic
from statbot.analysis.errors import DatasetNotFound
from statbot.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DatasetInfo", "DatasetRef", "DatasetStore", "frame_hash"]

log = logging.getLogger(__name__)
_USER = re.compile(r"^-?[A-Za-z0-9_]{1,64}$")
_DIGEST = re.compile(r"^[0-9a-f]{16,128}$")
_GONE = "The dataset '{name}' is no longer stored; please upload it again."


@dataclass(frozen=True, slots=True)
class DatasetRef:
    """Points at one stored dataset; JSON-able for sessions (``to_dict``/``from_dict``)."""

    user_id: int | str
    digest: str
    name: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetRef:
        return cls(user_id=data["user_id"], digest=str(data["digest"]), name=str(data["name"]))


@dataclass(frozen=True, slots=True)
class DatasetInfo:
    """A stored dataset's sidecar: what the user sees when listing datasets."""

    ref: DatasetRef
    rows: int
    columns: int
    size_bytes: int
    created: str  # ISO 8601, UTC
    schema: dict[str, Any]


def frame_hash(frame: pd.DataFrame) -> str:
    """A content hash of a frame: values, column names and dtypes (not the index)."""
    import pandas as pd

    digest = hashlib.sha256()
    digest.update(json.dumps([[str(c), str(t)] for c, t in frame.dtypes.items()]).encode())
    if len(frame):
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


class DatasetStore:
    """Per-user Parquet datasets under ``data_dir/datasets``."""

    def __init__(self, data_dir: str | Path) -> None:
        self.root = Path(data_dir) / "datasets"

    def _user_dir(self, user_id: int | str) -> Path:
        text = str(user_id)
        if not _USER.match(text):
            raise DataError(f"invalid user id {text!r}", user_message="Invalid user id.")
        return self.root / text

    def _paths(self, ref: DatasetRef) -> tuple[Path, Path]:
        if not _DIGEST.match(ref.digest):
            raise DatasetNotFound(f"bad digest {ref.digest!r}", user_message="Unknown dataset.")
        base = self._user_dir(ref.user_id) / ref.digest
        return base.with_suffix(".parquet"), base.with_suffix(".json")

    def put(
        self,
        user_id: int | str,
        frame: pd.DataFrame,
        content_hash: str | None = None,
        name: str = "data",
    ) -> DatasetRef:
        """Store ``frame``; ``content_hash`` (e.g. sha256 of the uploaded bytes) names it, else
        a hash of the frame does. Same user + same hash returns the existing ref."""
        from statbot.analysis.io.schema import infer_schema

        digest = (content_hash or frame_hash(frame)).lower()
        if not _DIGEST.match(digest):
            raise DataError(f"bad content hash {digest!r}", user_message="Invalid dataset hash.")
        ref = DatasetRef(user_id=user_id, digest=digest, name=name)
        parquet, sidecar = self._paths(ref)
        if sidecar.exists() and parquet.exists():
            existing = self.info(ref)
            log.info("dataset %s for user %s already stored", digest[:12], user_id)
            return existing.ref
        parquet.parent.mkdir(parents=True, exist_ok=True)
        columns = [str(c) for c in frame.columns]
        if len(set(columns)) != len(columns):
            raise DataError(
                "duplicate column names", user_message="Column names must be unique to store data."
            )
        table = _to_arrow(frame, columns)
        write_atomic(parquet, lambda tmp: _write_parquet(table, tmp))
        meta = {
            "ref": ref.to_dict(),
            "rows": int(frame.shape[0]),
            "columns": int(frame.shape[1]),
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "schema": infer_schema(frame).to_dict(),
        }
        text = json.dumps(meta)
        write_atomic(sidecar, lambda tmp: _write_text(tmp, text))
        log.info("stored dataset %s for user %s (%d rows)", digest[:12], user_id, len(frame))
        return ref

    def parquet_path(self, ref: DatasetRef) -> Path:
        """The stored Parquet file (for jobs that read the dataset in another process)."""
        parquet, sidecar = self._paths(ref)
        if not (parquet.exists() and sidecar.exists()):
            raise DatasetNotFound(
                f"missing dataset {ref.digest}",
                user_message=_GONE.format(name=ref.name),
            )
        return parquet

    def get(self, ref: DatasetRef) -> pd.DataFrame:
        import pyarrow.parquet as pq

        parquet, sidecar = self._paths(ref)
        if not (parquet.exists() and sidecar.exists()):
            raise DatasetNotFound(
                f"missing dataset {ref.digest}",
                user_message=_GONE.format(name=ref.name),
            )
        table = pq.read_table(parquet)
        return _restore_categories(table.to_pandas(), table.schema.pandas_metadata)

    def info(self, ref: DatasetRef) -> DatasetInfo:
        parquet, sidecar = self._paths(ref)
        try:
            meta = json.loads(sidecar.read_text(encoding="utf-8"))
            size = parquet.stat().st_size
        except (OSError, ValueError) as exc:
            raise DatasetNotFound(
                f"unreadable dataset {ref.digest}: {exc}",
                user_message=_GONE.format(name=ref.name),
            ) from exc
        return DatasetInfo(
            ref=DatasetRef.from_dict(meta["ref"]),
            rows=int(meta["rows"]),
            columns=int(meta["columns"]),
            size_bytes=size,
            created=str(meta["created"]),
            schema=dict(meta["schema"]),
        )

    def list(self, user_id: int | str) -> list[DatasetInfo]:
        """The user's datasets, oldest first; unreadable sidecars are skipped (and logged)."""
        folder = self._user_dir(user_id)
        found: list[DatasetInfo] = []
        for sidecar in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            try:
                found.append(self.info(DatasetRef(user_id, sidecar.stem, sidecar.stem)))
            except DatasetNotFound as exc:
                log.warning("skipping dataset %s: %s", sidecar, exc)
        return sorted(found, key=lambda i: (i.created, i.ref.digest))

    def size_bytes(self, ref: DatasetRef) -> int:
        return self.info(ref).size_bytes

    def delete(self, ref: DatasetRef) -> bool:
        """Remove one dataset (sidecar first, so a half-deleted one is never listed)."""
        parquet, sidecar = self._paths(ref)
        existed = sidecar.exists()
        for path in (sidecar, parquet):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        return existed

    def users(self) -> tuple[str, ...]:
        """The user ids that have a datasets folder."""
        if not self.root.is_dir():
            return ()
        return tuple(
            sorted(p.name for p in self.root.iterdir() if p.is_dir() and _USER.match(p.name))
        )

    def stored_before(self, user_id: int | str, before: float) -> tuple[DatasetRef, ...]:
        """The user's datasets whose files were last written before ``before`` (epoch s)."""
        folder = self._user_dir(user_id)
        found = []
        for parquet in sorted(folder.glob("*.parquet")) if folder.is_dir() else []:
            with contextlib.suppress(FileNotFoundError):
                if parquet.stat().st_mtime < before and _DIGEST.match(parquet.stem):
                    found.append(DatasetRef(user_id, parquet.stem, parquet.stem))
        return tuple(found)

    def delete_user(self, user_id: int | str) -> int:
        """Remove everything stored for ``user_id`` (/forget); returns how many datasets."""
        folder = self._user_dir(user_id)
        if not folder.is_dir():
            return 0
        count = len(list(folder.glob("*.json")))
        shutil.rmtree(folder)
        return count


def _to_arrow(frame: pd.DataFrame, columns: list[str]) -> Any:
    import pyarrow as pa

    named = frame.set_axis(columns, axis=1)
    try:
        return pa.Table.from_pandas(named, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        # Object columns mixing kinds (numbers and text): store them as text.
        fixed = named.copy()
        for column in fixed.columns:
            if fixed[column].dtype == object:
                fixed[column] = fixed[column].map(lambda v: v if v is None else str(v))
        return pa.Table.from_pandas(fixed, preserve_index=False)


def _restore_categories(frame: pd.DataFrame, meta: dict[str, Any] | None) -> pd.DataFrame:
    """Parquet reads a dictionary of numbers back as plain numbers (only text dictionaries stay
    dictionaries), so a code column the user made a category ("treat zip as category") would
    come back numeric; pandas' metadata in the file says it was stored as a category."""
    import pandas as pd

    for column in (meta or {}).get("columns") or []:
        name = column.get("name")
        if column.get("pandas_type") != "categorical" or name not in frame.columns:
            continue
        if not isinstance(frame[name].dtype, pd.CategoricalDtype):
            frame[name] = frame[name].astype("category")
    return frame


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def _write_parquet(table: Any, path: Path) -> None:
    import pyarrow.parquet as pq

    pq.write_table(table, path, compression="zstd")
