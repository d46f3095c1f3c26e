"""WAL upkeep for the SQLite session store: checkpoints off the commit path."""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger("statbot.engine.stores.sqlite")

# WAL size (pages of 4 KiB) at which the background thread checkpoints, and the hard bound at
# which a committing connection would checkpoint by itself.
CHECKPOINT_PAGES = 1000
AUTOCHECKPOINT_PAGES = 20000
WAL_SIZE_LIMIT = 4 * CHECKPOINT_PAGES * 4096


class Checkpointer:
    """Background thread with its own connection: PASSIVE checkpoints once the WAL has grown.

    PASSIVE never waits for and never blocks readers or writers, so commits on the main
    connection keep their latency while pages are copied and the main file is fsynced.
    """

    def __init__(self, path: Path, interval: float = 0.2) -> None:
        self._path = path
        self._wal = Path(f"{path}-wal")
        self._interval = interval
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="statbot-sqlite-ckpt", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()

    def _loop(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while not self._stopping.wait(self._interval):
                try:
                    size = self._wal.stat().st_size
                except FileNotFoundError:
                    continue
                if size < CHECKPOINT_PAGES * 4096:
                    continue
                try:
                    if conn is None:
                        conn = sqlite3.connect(self._path, isolation_level=None, timeout=1.0)
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error as exc:  # e.g. a backup holds a lock: try again later
                    log.warning("sqlite background checkpoint of %s failed: %s", self._path, exc)
        finally:
            if conn is not None:
                conn.close()
