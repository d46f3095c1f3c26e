"""One instance per bot token in polling mode, enforced by an OS lock (DESIGN.md promise 6).

The lock file name is derived from a hash of the token, so two bots can share a data dir and the
token never appears on disk. ``fallback_to_soft=False``: on a file system without ``flock`` we
refuse to start rather than silently use a soft lock that a crash would leave behind. The kernel
releases the lock when the holder dies, so a SIGKILLed bot never blocks its successor.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

from filelock import FileLock, Timeout

from statbot.errors import StatbotError

log = logging.getLogger(__name__)


class InstanceLockedError(StatbotError):
    """Another process holds the instance lock; ``holder_pid`` is its PID when known."""

    def __init__(self, path: Path, holder_pid: int | None) -> None:
        who = f" (PID {holder_pid})" if holder_pid else ""
        super().__init__(
            f"another statbot instance{who} already polls with this token (lock {path}); "
            "stop it first or use webhook mode with several replicas"
        )
        self.path = path
        self.holder_pid = holder_pid


def lock_path(data_dir: Path, token: str) -> Path:
    digest = hashlib.sha256(token.encode()).hexdigest()[:16]
    return data_dir / "locks" / f"bot-{digest}.lock"


class InstanceLock:
    """Non-blocking exclusive lock; ``acquire`` raises InstanceLockedError at once if held."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._pid_file = path.with_suffix(".pid")
        self._lock = FileLock(str(path), timeout=0, fallback_to_soft=False, thread_local=False)

    @classmethod
    def for_token(cls, data_dir: Path, token: str) -> InstanceLock:
        return cls(lock_path(data_dir, token))

    @property
    def held(self) -> bool:
        return bool(self._lock.is_locked)

    def holder_pid(self) -> int | None:
        try:
            return int(self._pid_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire()
        except Timeout as exc:
            raise InstanceLockedError(self.path, self.holder_pid()) from exc
        self._pid_file.write_text(f"{os.getpid()}\n")
        log.info("instance lock acquired: %s", self.path)

    def release(self) -> None:
        if not self._lock.is_locked:
            return
        try:
            if self.holder_pid() == os.getpid():
                self._pid_file.unlink(missing_ok=True)
        finally:
            self._lock.release(force=True)
        log.info("instance lock released")

    def is_held_elsewhere(self) -> bool:
        """True when some other process holds the lock (probe without keeping it)."""
        if self.held:
            return False
        probe = FileLock(str(self.path), timeout=0, fallback_to_soft=False, thread_local=False)
        try:
            probe.acquire()
        except Timeout:
            return True
        probe.release(force=True)
        return False

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
