"""The staging area for uploads: ``STATBOT_DATA_DIR/staging/<user>/<upload>``.

An upload is staged, loaded, stored as a dataset, and its staging folder removed. A failed one
is renamed ``<upload>.failed`` and removed by this sweep once older than the TTL; a folder left
behind by a crash mid-upload is removed after a longer TTL (its event is replayed and staged
again, so nothing is lost by removing it).
"""

from __future__ import annotations

import contextlib
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

FAILED_TTL_S = 3600.0
ORPHAN_TTL_S = 24 * 3600.0


@dataclass(frozen=True, slots=True)
class StagingUsage:
    uploads: int
    failed: int
    bytes: int

    def as_dict(self) -> dict[str, int]:
        return {"uploads": self.uploads, "failed": self.failed, "bytes": self.bytes}


def _folders(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return [upload for user in root.iterdir() if user.is_dir() for upload in user.iterdir()]


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def staging_usage(data_dir: Path) -> StagingUsage:
    folders = _folders(data_dir / "staging")
    failed = [f for f in folders if f.name.endswith(".failed")]
    return StagingUsage(len(folders), len(failed), sum(_size(f) for f in folders))


def sweep_staging(
    data_dir: Path,
    *,
    now: float | None = None,
    failed_ttl_s: float = FAILED_TTL_S,
    orphan_ttl_s: float = ORPHAN_TTL_S,
) -> int:
    """Remove expired staging folders; returns how many were removed."""
    now = time.time() if now is None else now
    removed = 0
    for folder in _folders(data_dir / "staging"):
        ttl = failed_ttl_s if folder.name.endswith(".failed") else orphan_ttl_s
        try:
            age = now - folder.stat().st_mtime
        except FileNotFoundError:
            continue
        if age > ttl:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    for user in (data_dir / "staging").glob("*"):
        if user.is_dir() and not any(user.iterdir()):
            user.rmdir()
    return removed


def disk_usage(data_dir: Path) -> tuple[int, int]:
    """Bytes under staging/ and datasets/ (what the operator's disk alert watches)."""
    total = 0
    for path in (data_dir / "datasets").rglob("*"):
        with contextlib.suppress(OSError):
            if path.is_file():
                total += path.stat().st_size
    return staging_usage(data_dir).bytes, total
