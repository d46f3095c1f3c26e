"""One instance per bot token in polling mode, enforced by an OS lock (DESIGN.md promise 6).

The lock is per role (issue 14): a polling bot holds it exclusively; webhook replicas each hold
it shared, so any number of replicas run side by side, but never next to a poller on the same
token and data dir (Telegram refuses ``getUpdates`` while a webhook is set, and a replica's
``setWebhook`` would silently cut a poller off).

The lock file name is derived from a hash of the token, so two bots can share a data dir and the
token never appears on disk. ``fallback_to_soft=False``: on a file system without ``flock`` we
refuse to start rather than silently use a soft lock that a crash would leave behind. The kernel
releases the lock when the holder dies, so a SIGKILLed bot never blocks its successor.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
from pathlib import Path

from filelock import FileLock, Timeout

from statbot.errors import StatbotError

log = logging.getLogger(__name__)


class InstanceLockedError(StatbotError):
    """Another process holds the instance lock; ``holder_pid`` is its PID when known."""

    def __init__(self, path: Path, holder_pid: int | None, *, shared: bool = False) -> None:
        who = f" (PID {holder_pid})" if holder_pid else ""
        if shared:
            message = (
                f"a statbot instance{who} polls with this token (lock {path}); stop it before "
                "starting webhook replicas"
            )
        else:
            message = (
                f"another statbot instance{who} already runs with this token (lock {path}): "
                "polling allows one instance and none beside webhook replicas; stop it first "
                "or use webhook mode with several replicas"
            )
        super().__init__(message)
        self.path = path
        self.holder_pid = holder_pid


def lock_path(data_dir: Path, token: str) -> Path:
    digest = hashlib.sha256(token.encode()).hexdigest()[:16]
    return data_dir / "locks" / f"bot-{digest}.lock"


class _SharedFlock:
    """``flock(LOCK_SH)``, the shape of FileLock's calls (which only locks exclusively)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @property
    def is_locked(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        if self._fd is not None:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            os.close(fd)
            raise Timeout(str(self.path)) from exc
        self._fd = fd

    def release(self, force: bool = False) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


class InstanceLock:
    """Non-blocking lock, exclusive (polling) or ``shared`` (webhook replicas); ``acquire``
    raises InstanceLockedError at once if a holder of the other kind (or a poller) has it."""

    def __init__(self, path: Path, *, shared: bool = False) -> None:
        self.path = path
        self.shared = shared
        self._pid_file = path.with_suffix(".pid")
        self._lock: FileLock | _SharedFlock = (
            _SharedFlock(path)
            if shared
            else FileLock(str(path), timeout=0, fallback_to_soft=False, thread_local=False)
        )

    @classmethod
    def for_token(cls, data_dir: Path, token: str, *, role: str = "polling") -> InstanceLock:
        """``role``: "polling" (one instance) or "webhook" (any number of replicas)."""
        return cls(lock_path(data_dir, token), shared=role == "webhook")

    @property
    def held(self) -> bool:
        return bool(self._lock.is_locked)

    def holder_pid(self) -> int | None:
        """The PID the last holder wrote next to the lock. It is written just after the lock is
        taken and outlives a SIGKILLed holder, so it may be missing or stale: ``live_holder``
        says who holds the lock now."""
        try:
            return int(self._pid_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def live_holder(self) -> int | None:
        """The PID of the process that holds the lock now; None when nobody holds it (or the
        holder cannot be named: another PID namespace, no ``/proc``).

        The kernel's lock table (``/proc/locks``) is asked first: it names the holder even
        before it wrote its PID file, and never names a dead one. Elsewhere the PID file is
        believed while that PID is alive and the lock is held (``statbot stop`` of a bot that
        ``statbot run`` or systemd started, issue 15).
        """
        if self.held:
            return os.getpid()
        if not self.is_held_elsewhere():
            return None
        pid = _flock_holder(self.path)
        if pid is None:
            pid = self.holder_pid()
        return pid if pid is not None and _alive(pid) else None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire()
        except Timeout as exc:
            holder = _flock_holder(self.path) or self.holder_pid()
            raise InstanceLockedError(self.path, holder, shared=self.shared) from exc
        if not self.shared:  # replicas are many: the PID file names the one poller
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


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _flock_holder(path: Path) -> int | None:
    """The PID holding a ``flock`` on ``path`` per ``/proc/locks`` (Linux), or None.

    A line reads ``1: FLOCK  ADVISORY  WRITE 4393 fe:00:2155529 0 EOF``: PID, then the device
    (major:minor in hex) and inode of the locked file; waiters are marked ``->`` and skipped.
    """
    try:
        st = path.stat()
        with open("/proc/locks") as fh:
            lines = fh.readlines()
    except OSError:
        return None
    want = (os.major(st.st_dev), os.minor(st.st_dev), st.st_ino)
    for line in lines:
        fields = line.split()
        if "->" in fields or len(fields) < 6 or fields[1] != "FLOCK":
            continue
        try:
            major, minor, inode = fields[5].split(":")
            where = (int(major, 16), int(minor, 16), int(inode))
            pid = int(fields[4])
        except ValueError:
            continue
        if where == want and pid > 0:
            return pid
    return None
