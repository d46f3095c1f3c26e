"""The local runner's job table as it is used from the event loop: behind one dedicated thread,
and held under an flock so that only one runner at a time works on a data directory. The table
is the catalog database's ``jobs`` (issue 12): opened here from its URL, migrated to head (a
no-op when the app did it already) and closed at the end.

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
from typing import IO, TYPE_CHECKING, Any, TypeVar

from statbot.errors import JobError
from statbot.jobs.table import JobTable

if TYPE_CHECKING:
    from statbot.access.catalog import Catalog

T = TypeVar("T")


class TableThread:
    """The catalog's job table opened in its own thread, plus ``root/runner.lock``."""

    def __init__(self, root: Path, database_url: str, data_dir: Path | None = None) -> None:
        self.root = root
        self.database_url = database_url
        self.data_dir = data_dir  # where statbot.access.legacy looks for an old jobs.sqlite3
        self._catalog: Catalog | None = None
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
        self._catalog = await self.run(self._open_catalog)
        self._table = JobTable(self._catalog)

    def _open_catalog(self) -> Catalog:
        from statbot.access.catalog import Catalog

        catalog = Catalog(self.database_url, data_dir=self.data_dir)
        try:
            catalog.upgrade()
        except BaseException:
            catalog.close()
            raise
        return catalog

    async def close(self) -> None:
        """Close the table, stop its thread, release the lock; safe on a half-open one."""
        self._table = None
        if self._catalog is not None:
            await self.run(self._catalog.close)
            self._catalog = None
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
