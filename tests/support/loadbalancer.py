"""HAProxy (Debian's ``haproxy``) in front of N webhook replicas, as a test's subprocess (issue 14).

Round robin over the replicas' webhook ports; each replica is health-checked with
``GET /livez`` on its health port every 200 ms and leaves the rotation after two failures, so a
killed replica is out within about half a second. A POST that hits a dead or frozen backend
(refused connection, connection closed without an answer, no answer within ``timeout server``)
is retried on another replica (``retry-on`` + ``option redispatch``; the body is buffered so it
can be re-sent): statbot's webhook is idempotent per ``update_id``, which is what makes that
retry safe. The config binds 127.0.0.1 on a free port; the process runs in the foreground
(``-db``) and is stopped by its PID.

When haproxy is missing, ``require_haproxy()`` skips with the install line;
scripts/install-test-system.sh installs it, so CI runs the tier.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.ops.procs import free_port

MISSING = (
    "haproxy is not installed; the replica tests need a real load balancer. Install it with "
    "`bash scripts/install-test-system.sh` (Debian package haproxy)."
)


@dataclass(frozen=True)
class Backend:
    """One replica as the balancer sees it: where webhooks go, where its health is checked."""

    name: str
    webhook_port: int
    health_port: int


def require_haproxy() -> str:
    binary = shutil.which("haproxy") or (
        "/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None
    )
    if binary is None:
        pytest.skip(MISSING)
    return binary


def config(port: int, backends: Sequence[Backend], *, server_timeout: str = "3s") -> str:
    servers = "\n".join(
        f"    server {b.name} 127.0.0.1:{b.webhook_port} check port {b.health_port}"
        for b in backends
    )
    return f"""\
global
    maxconn 4096

defaults
    mode http
    timeout connect 500ms
    timeout client 30s
    timeout server {server_timeout}
    timeout check 500ms
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response response-timeout
    option http-buffer-request

frontend webhooks
    bind 127.0.0.1:{port}
    default_backend replicas

backend replicas
    balance roundrobin
    option httpchk GET /livez
    default-server inter 200ms fastinter 200ms downinter 300ms fall 2 rise 1
{servers}
"""


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.3):
            return True
    except OSError:
        return False


@dataclass
class LoadBalancer:
    port: int
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextlib.contextmanager
def load_balancer(
    workdir: Path, backends: Sequence[Backend], *, server_timeout: str = "3s"
) -> Iterator[LoadBalancer]:
    """A running haproxy over ``backends``; stopped by its PID when the block exits."""
    binary = require_haproxy()
    port = free_port()
    cfg = workdir / "haproxy.cfg"
    cfg.write_text(config(port, backends, server_timeout=server_timeout))
    check = subprocess.run(
        [binary, "-c", "-f", str(cfg)], check=False, capture_output=True, text=True
    )
    if check.returncode != 0:
        raise AssertionError(f"haproxy rejected its config:\n{check.stdout}{check.stderr}")
    log = workdir / "haproxy.log"
    with log.open("wb") as out:
        popen = subprocess.Popen(
            [binary, "-f", str(cfg), "-db"],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    balancer = LoadBalancer(port, popen, log)
    try:
        deadline = time.monotonic() + 10
        while not _listening(port):
            if popen.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"haproxy did not listen on {port}:\n{balancer.output()}")
            time.sleep(0.05)
        yield balancer
    finally:
        if popen.poll() is None:
            os.kill(popen.pid, signal.SIGUSR1)  # soft stop: finish what is in flight
            try:
                popen.wait(5)
            except subprocess.TimeoutExpired:
                os.kill(popen.pid, signal.SIGKILL)
                popen.wait(5)
