from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from statbot.ops.lock import InstanceLock, InstanceLockedError, lock_path

HOLDER = """
import sys, time
from pathlib import Path
from statbot.ops.lock import InstanceLock
lock = InstanceLock.for_token(Path(sys.argv[1]), sys.argv[2], role=sys.argv[3])
lock.acquire()
print("held", flush=True)
time.sleep(60)
"""


def _start_holder(data_dir: Path, token: str, role: str = "polling") -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(data_dir), token, role],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_lock_file_name_does_not_contain_the_token(tmp_path: Path) -> None:
    path = lock_path(tmp_path, "123:secret")
    assert "secret" not in str(path) and "123" not in path.name


def test_second_holder_is_refused_with_pid_and_sigkill_frees_it(tmp_path: Path) -> None:
    proc = _start_holder(tmp_path, "1:abc")
    try:
        lock = InstanceLock.for_token(tmp_path, "1:abc")
        started = time.monotonic()
        with pytest.raises(InstanceLockedError) as info:
            lock.acquire()
        assert time.monotonic() - started < 2.0
        assert info.value.holder_pid == proc.pid
        assert str(proc.pid) in str(info.value)
        assert lock.is_held_elsewhere()
        # A different token is a different bot: not blocked.
        with InstanceLock.for_token(tmp_path, "2:xyz"):
            pass
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()
    # The kernel released the dead holder's lock: a successor starts at once.
    lock = InstanceLock.for_token(tmp_path, "1:abc")
    lock.acquire()
    assert lock.held and lock.holder_pid() == os.getpid()
    lock.release()
    assert not lock.held
    lock.release()  # idempotent


def test_live_holder_names_the_holder_even_without_its_pid_file(tmp_path: Path) -> None:
    """`statbot stop` finds a bot that `statbot run` or systemd started by this (issue 15)."""
    lock = InstanceLock.for_token(tmp_path, "1:abc")
    assert lock.live_holder() is None  # nobody holds it
    proc = _start_holder(tmp_path, "1:abc")
    try:
        assert lock.live_holder() == proc.pid
        # The PID file is gone (or stale, naming a dead process): the kernel still knows.
        lock.path.with_suffix(".pid").write_text("999999999\n")
        assert lock.holder_pid() == 999999999
        assert lock.live_holder() == proc.pid
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()
    # A dead holder's PID file outlives it; the lock does not, and neither does the answer.
    lock.path.with_suffix(".pid").write_text(f"{proc.pid}\n")
    assert lock.live_holder() is None
    with lock:
        assert lock.live_holder() == os.getpid()


def _stop(proc: subprocess.Popen[str]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.stdout is not None
    proc.stdout.close()


def test_webhook_replicas_share_the_lock_and_keep_a_poller_out(tmp_path: Path) -> None:
    replicas = [_start_holder(tmp_path, "1:abc", "webhook") for _ in range(2)]
    try:
        with InstanceLock.for_token(tmp_path, "1:abc", role="webhook") as third:
            assert third.held  # a third replica, in this process
        with pytest.raises(InstanceLockedError) as info:
            InstanceLock.for_token(tmp_path, "1:abc").acquire()
        assert info.value.holder_pid in {p.pid for p in replicas}
        assert "webhook replicas" in str(info.value)
    finally:
        for proc in replicas:
            _stop(proc)
    with InstanceLock.for_token(tmp_path, "1:abc"):  # the replicas are gone: a poller may run
        pass


def test_a_poller_keeps_webhook_replicas_out(tmp_path: Path) -> None:
    poller = _start_holder(tmp_path, "1:abc", "polling")
    try:
        with pytest.raises(InstanceLockedError) as info:
            InstanceLock.for_token(tmp_path, "1:abc", role="webhook").acquire()
        assert info.value.holder_pid == poller.pid
        assert "stop it before starting webhook replicas" in str(info.value)
    finally:
        _stop(poller)
