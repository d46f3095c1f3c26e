"""The staging area for uploads: ``STATBOT_DATA_DIR/staging/<user>/<upload>``.

An upload is staged, loaded, stored as a dataset, and its staging folder removed (the ingest
saga, ``workflows/ingest.py``). A failed one is renamed ``<upload>.failed``, with a
``FAILED.json`` saying which step failed and why, its time set to the failure so that the TTL
counts from then, and removed by this sweep once older than the TTL; a folder left behind by a
crash mid-upload is removed after a longer TTL (its event is replayed and staged again, so
nothing is lost by removing it). The sweep says how many of each it removed (the
``statbot_staging_cleanups_total{outcome}`` counter).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

FAILED_TTL_S = 3600.0
ORPHAN_TTL_S = 24 * 3600.0
FAILED = ".failed"
MARKER = "FAILED.json"


@dataclass(frozen=True, slots=True)
class StagingSweep:
    """What one sweep removed: failed uploads past their TTL, and folders a crash left."""

    failed_expired: int = 0
    orphan_expired: int = 0

    @property
    def removed(self) -> int:
        return self.failed_expired + self.orphan_expired


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
    failed = [f for f in folders if f.name.endswith(FAILED)]
    return StagingUsage(len(folders), len(failed), sum(_size(f) for f in folders))


def mark_failed(
    staging: Path, step: str = "", reason: str = "", *, now: float | None = None
) -> Path | None:
    """Keep a failed upload's staging folder for the TTL sweep (and for a look if needed):
    renamed ``<upload>.failed`` (a replayed failure replaces the older one), ``FAILED.json``
    inside, its time set to now so the TTL counts from the failure. Returns the folder (None:
    nothing was staged)."""
    if not staging.exists():
        return None
    now = time.time() if now is None else now
    failed = staging.with_name(staging.name + FAILED)
    shutil.rmtree(failed, ignore_errors=True)
    staging.rename(failed)
    note = {"step": step, "reason": reason, "failed_at": now, "expires_at": now + FAILED_TTL_S}
    (failed / MARKER).write_text(json.dumps(note), encoding="utf-8")
    os.utime(failed, (now, now))
    return failed


def sweep_staging(
    data_dir: Path,
    *,
    now: float | None = None,
    failed_ttl_s: float = FAILED_TTL_S,
    orphan_ttl_s: float = ORPHAN_TTL_S,
) -> StagingSweep:
    """Remove expired staging folders; says how many of each kind."""
    now = time.time() if now is None else now
    failed = orphans = 0
    for folder in _folders(data_dir / "staging"):
        is_failed = folder.name.endswith(FAILED)
        try:
            age = now - folder.stat().st_mtime
        except FileNotFoundError:
            continue
        if age > (failed_ttl_s if is_failed else orphan_ttl_s):
            shutil.rmtree(folder, ignore_errors=True)
            failed, orphans = (failed + 1, orphans) if is_failed else (failed, orphans + 1)
    for user in (data_dir / "staging").glob("*"):
        with contextlib.suppress(OSError):  # a new upload may have arrived meanwhile
            if user.is_dir() and not any(user.iterdir()):
                user.rmdir()
    return StagingSweep(failed, orphans)


def disk_usage(data_dir: Path) -> tuple[int, int]:
    """Bytes under staging/ and datasets/ (what the operator's disk alert watches)."""
    total = 0
    for path in (data_dir / "datasets").rglob("*"):
        with contextlib.suppress(OSError):
            if path.is_file():
                total += path.stat().st_size
    return staging_usage(data_dir).bytes, total
