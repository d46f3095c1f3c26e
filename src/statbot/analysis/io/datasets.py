"""Datasets stored as Parquet under ``<data_dir>/datasets/<user>/<hash>.parquet`` (DESIGN, 4).

Each dataset is one Parquet file plus its entry in an index (name, rows, columns, size, schema,
created): in the app that is the catalog database's ``datasets`` table (issue 12,
:class:`statbot.access.storage.CatalogDatasets`, handed in by whoever builds the store); without
one, a JSON sidecar next to the Parquet file (:class:`SidecarIndex`, the layout before the
catalog, which statbot.access.legacy imports). The Parquet file is written to a temporary file,
flushed and renamed into place, and the entry is written last, so an entry always means a
complete Parquet file. The file name is a content hash:
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
from statbot.analysis.io.dataset_index import DatasetIndex, SidecarIndex
from statbot.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DatasetIndex",
    "DatasetInfo",
    "DatasetRef",
    "DatasetStore",
    "SidecarIndex",
    "frame_hash",
]

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
    """Per-user Parquet datasets under ``data_dir/datasets``, indexed by ``index`` (the
    catalog's table in the app; JSON sidecars when none is given)."""

    def __init__(self, data_dir: str | Path, index: DatasetIndex | None = None) -> None:
        self.root = Path(data_dir) / "datasets"
        self.index: DatasetIndex = index if index is not None else SidecarIndex(self.root)

    def _user_dir(self, user_id: int | str) -> Path:
        text = str(user_id)
        if not _USER.match(text):
            raise DataError(f"invalid user id {text!r}", user_message="Invalid user id.")
        return self.root / text

    def _parquet(self, ref: DatasetRef) -> Path:
        if not _DIGEST.match(ref.digest):
            raise DatasetNotFound(f"bad digest {ref.digest!r}", user_message="Unknown dataset.")
        return (self._user_dir(ref.user_id) / ref.digest).with_suffix(".parquet")

    def _entry(self, ref: DatasetRef) -> tuple[Path, dict[str, Any]]:
        """The Parquet file and the index entry of a stored dataset; DatasetNotFound if either
        is missing."""
        parquet = self._parquet(ref)
        try:
            entry = self.index.get(ref.user_id, ref.digest)
        except DatasetNotFound as exc:
            raise DatasetNotFound(str(exc), user_message=_GONE.format(name=ref.name)) from exc
        if entry is None or not parquet.exists():
            raise DatasetNotFound(
                f"missing dataset {ref.digest}", user_message=_GONE.format(name=ref.name)
            )
        return parquet, entry

    def put(
        self,
        user_id: int | str,
        frame: pd.DataFrame,
        content_hash: str | None = None,
        name: str = "data",
    ) -> DatasetRef:
        """Store ``frame``; ``content_hash`` (e.g. sha256 of the uploaded bytes) names it, else
        a hash of the frame does. Same user + same hash returns the existing ref."""
        ref, _ = self.write_parquet(user_id, frame, content_hash, name)
        self.add_entry(ref, frame)
        return ref

    def write_parquet(
        self,
        user_id: int | str,
        frame: pd.DataFrame,
        content_hash: str | None = None,
        name: str = "data",
    ) -> tuple[DatasetRef, bool]:
        """:meth:`put`'s first half (an ingest saga step): the Parquet file, and whether this
        call created it (False: stored already, or a crash's leftover rewritten)."""
        digest = (content_hash or frame_hash(frame)).lower()
        if not _DIGEST.match(digest):
            raise DataError(f"bad content hash {digest!r}", user_message="Invalid dataset hash.")
        ref = DatasetRef(user_id=user_id, digest=digest, name=name)
        parquet = self._parquet(ref)
        existed = parquet.exists()
        if existed and self.index.get(user_id, digest) is not None:
            log.info("dataset %s for user %s already stored", digest[:12], user_id)
            return self.info(ref).ref, False
        parquet.parent.mkdir(parents=True, exist_ok=True)
        columns = [str(c) for c in frame.columns]
        if len(set(columns)) != len(columns):
            raise DataError(
                "duplicate column names", user_message="Column names must be unique to store data."
            )
        table = _to_arrow(frame, columns)
        write_atomic(parquet, lambda tmp: _write_parquet(table, tmp))
        return ref, not existed

    def add_entry(self, ref: DatasetRef, frame: pd.DataFrame) -> bool:
        """:meth:`put`'s second half: the entry, after the complete file; False if there."""
        from statbot.analysis.io.schema import infer_schema

        if self.index.get(ref.user_id, ref.digest) is not None:
            return False
        parquet = self._parquet(ref)
        entry = {
            "ref": ref.to_dict(),
            "rows": int(frame.shape[0]),
            "columns": int(frame.shape[1]),
            "size_bytes": parquet.stat().st_size,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "schema": infer_schema(frame).to_dict(),
        }
        self.index.add(ref.user_id, ref.digest, entry)
        log.info("stored dataset %s of user %s (%d rows)", ref.digest[:12], ref.user_id, len(frame))
        return True

    def remove_file(self, ref: DatasetRef, *, check_index: bool = True) -> bool:
        """Undo :meth:`write_parquet`, unless an entry names the file (stored meanwhile)."""
        if check_index and self.index.get(ref.user_id, ref.digest) is not None:
            return False
        try:
            self._parquet(ref).unlink()
        except FileNotFoundError:
            return False
        return True

    def parquet_path(self, ref: DatasetRef) -> Path:
        """The stored Parquet file (for jobs that read the dataset in another process)."""
        return self._entry(ref)[0]

    def file_of(self, ref: DatasetRef) -> Path:
        """The Parquet file alone, without looking at the index: for a job's own process, which
        has no catalog (the conversation found the entry when it submitted the job)."""
        parquet = self._parquet(ref)
        if not parquet.exists():
            raise DatasetNotFound(
                f"missing dataset {ref.digest}", user_message=_GONE.format(name=ref.name)
            )
        return parquet

    def get(self, ref: DatasetRef) -> pd.DataFrame:
        import pyarrow.parquet as pq

        table = pq.read_table(self._entry(ref)[0])
        return _restore_categories(table.to_pandas(), table.schema.pandas_metadata)

    def info(self, ref: DatasetRef) -> DatasetInfo:
        parquet, entry = self._entry(ref)
        try:
            size = int(entry.get("size_bytes") or parquet.stat().st_size)
            stored = DatasetRef.from_dict(entry["ref"])
            return DatasetInfo(
                ref=DatasetRef(ref.user_id, stored.digest, stored.name),
                rows=int(entry["rows"]),
                columns=int(entry["columns"]),
                size_bytes=size,
                created=str(entry["created"]),
                schema=dict(entry["schema"]),
            )
        except (OSError, KeyError, TypeError, ValueError) as exc:
            raise DatasetNotFound(
                f"unreadable dataset {ref.digest}: {exc}",
                user_message=_GONE.format(name=ref.name),
            ) from exc

    def list(self, user_id: int | str) -> list[DatasetInfo]:
        """The user's datasets, oldest first; unreadable entries are skipped (and logged)."""
        self._user_dir(user_id)
        found: list[DatasetInfo] = []
        for entry in self.index.entries(user_id):
            digest = str(entry.get("ref", {}).get("digest", ""))
            try:
                found.append(self.info(DatasetRef(user_id, digest, digest)))
            except DatasetNotFound as exc:
                log.warning("skipping dataset %s of user %s: %s", digest, user_id, exc)
        return sorted(found, key=lambda i: (i.created, i.ref.digest))

    def size_bytes(self, ref: DatasetRef) -> int:
        return self.info(ref).size_bytes

    def user_bytes(self, user_id: int | str) -> int:
        """What the user's datasets take on disk (the storage quota counts it, issue 12)."""
        return folder_bytes(self._user_dir(user_id))

    def delete(self, ref: DatasetRef) -> bool:
        """Remove one dataset (its entry first, so a half-deleted one is never listed)."""
        parquet = self._parquet(ref)
        existed = self.index.remove(ref.user_id, ref.digest)
        with contextlib.suppress(FileNotFoundError):
            parquet.unlink()
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
        count = self.index.remove_user(user_id)
        if folder.is_dir():
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


def folder_bytes(folder: Path) -> int:
    """The sizes of a folder's files (one deleted meanwhile counts nothing)."""
    total = 0
    with contextlib.suppress(FileNotFoundError):
        for path in folder.iterdir():
            with contextlib.suppress(FileNotFoundError):
                total += path.stat().st_size if path.is_file() else 0
    return total


def _write_parquet(table: Any, path: Path) -> None:
    import pyarrow.parquet as pq

    pq.write_table(table, path, compression="zstd")
