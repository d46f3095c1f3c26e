"""The local runner's job table as it is used from the event loop: behind one dedicated thread,
and held under an flock so that only one runner at a time works on a data directory.

:class:`~statbot.jobs.table.JobTable` is synchronous on purpose; every call goes through
:meth:`TableThread.run`, which hands it to the single ``statbot-jobs-db`` thread so the loop never
waits on disk and the table is only ever touched from one thread.
"""

from __future__ import annotations

import asyncio
import fcntl
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any, TypeVar

from statbot.errors import JobError
from statbot.jobs.table import JobTable

T = TypeVar("T")


class TableThread:
    """``root/jobs.sqlite3`` opened in its own thread, plus ``root/runner.lock``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._table: JobTable | None = None
        self._thread: ThreadPoolExecutor | None = None
        self._lock_file: IO[bytes] | None = None

    @property
    def is_open(self) -> bool:
        return self._table is not None

    @property
    def table(self) -> JobTable:
        if self._table is None:
            raise JobError("the job runner is not started")
        return self._table

    def lock(self) -> None:
        """Take the runner lock; :class:`JobError` if another runner holds it."""
        self._lock_file = _lock(self.root / "runner.lock")

    async def open(self) -> None:
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="statbot-jobs-db")
        self._table = await self.run(JobTable, self.root / "jobs.sqlite3")

    async def close(self) -> None:
        """Close the table, stop its thread, release the lock; safe on a half-open one."""
        if self._table is not None:
            await self.run(self._table.close)
            self._table = None
        if self._thread is not None:
            self._thread.shutdown(wait=True)
            self._thread = None
        if self._lock_file is not None:
            self._lock_file.close()  # releases the flock
            self._lock_file = None

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` in the table's thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, lambda: fn(*args, **kwargs))


def _lock(path: Path) -> IO[bytes]:
    """One runner per job table: an flock the OS releases if this process dies."""
    handle = open(path, "wb")  # noqa: SIM115 - held until stop
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise JobError(f"another job runner is using {path.parent}") from None
    return handle
