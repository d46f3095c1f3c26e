"""How often each entry was read, for "most read" in /kb_stats; kept across restarts.

A small SQLite file in the data dir (``STATBOT_DATA_DIR/kb/reads.sqlite``; the catalog database
of issue 12 does not exist yet). One row per read, keyed by a digest of the event that caused
it: an update replayed after a crash (DESIGN promise 2) counts once, and the digest names no
user, so the counts are not personal data /forget would have to delete.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from pathlib import Path

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS reads ("
    " read_key TEXT PRIMARY KEY, entry_id TEXT NOT NULL, at REAL NOT NULL)"
)
_INDEX = "CREATE INDEX IF NOT EXISTS reads_entry ON reads(entry_id)"


def read_key(*parts: str) -> str:
    """The digest that identifies one read (e.g. conversation, event id, entry id)."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


class ReadCounts:
    """Reads per entry id in one SQLite file, opened on first use."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> ReadCounts:
        return cls(data_dir / "kb" / "reads.sqlite")

    def _open(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(_SCHEMA)
            db.execute(_INDEX)
            self._db = db
        return self._db

    def record(self, entry_id: str, key: str) -> bool:
        """Count one read of ``entry_id``; False if ``key`` was counted before (a replay)."""
        with self._lock:
            cursor = self._open().execute(
                "INSERT OR IGNORE INTO reads VALUES (?, ?, ?)", (key, entry_id, time.time())
            )
            return cursor.rowcount == 1

    def most_read(self, limit: int = 5) -> list[tuple[str, int]]:
        """(entry id, reads), most read first (ties by id)."""
        with self._lock:
            rows = (
                self._open()
                .execute(
                    "SELECT entry_id, COUNT(*) AS n FROM reads GROUP BY entry_id "
                    "ORDER BY n DESC, entry_id LIMIT ?",
                    (limit,),
                )
                .fetchall()
            )
        return [(str(i), int(n)) for i, n in rows]

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
