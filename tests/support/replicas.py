"""N ``statbot run`` webhook replicas behind HAProxy, on real engines (issue 14).

Every replica is a real ``statbot run`` process in webhook mode: the same bot token and the same
Bot API (``STATBOT_TELEGRAM_API_URL`` = the sandbox, which delivers the webhook), sessions in one
real redis-server (``STATBOT_SESSION_STORE=redis://…``), the catalog in one real PostgreSQL
database (``STATBOT_DATABASE_URL``), one shared ``STATBOT_DATA_DIR``; each has its own health and
webhook port, and all register the load balancer's URL as the webhook, with one secret. Jobs run
on a real Temporal dev server (``STATBOT_JOBS=temporal``): the local runner owns its data dir's
``jobs/`` folder alone, so replicas sharing a data dir must share Temporal instead; ``workers``
``statbot worker`` processes run the jobs.

The sandbox runs in the caller's event loop, and the replicas talk to it while they start, so
everything here that waits is ``async`` (a blocking sleep would starve the sandbox). Processes are
signalled and ended by their PIDs only: ``kill()`` (SIGKILL), ``freeze()``/``thaw()``
(SIGSTOP/SIGCONT), ``restart()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest

from tests.ops.procs import free_port
from tests.support.first_run import newcomer_env
from tests.support.loadbalancer import Backend, LoadBalancer, load_balancer
from tests.support.postgres import running_postgres
from tests.support.redis_server import answers_ping
from tests.support.temporal import TemporalDevServer, task_queue

TOKEN = "424242:REPLICAS"
SECRET = "replica-secret-14"


@contextlib.contextmanager
def redis_server(workdir: Path) -> Iterator[str]:
    """A redis-server on a free loopback port with AOF on (as DESIGN asks); its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is missing: run `bash scripts/install-test-system.sh`")
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
               "--appendonly", "yes", "--appendfsync", "everysec", "--dir", str(workdir),
               "--daemonize", "no"]  # fmt: skip
    with (workdir / "redis.log").open("wb") as log:
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while not answers_ping(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError((workdir / "redis.log").read_text(errors="replace"))
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(5)


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A new, empty database on a throwaway PostgreSQL server: the replicas, started together,
    migrate it at start (one at a time, under the catalog's migration lock)."""
    with running_postgres() as server:
        yield server.url(server.create_database())


async def _ready(health_port: int) -> bool:
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http,
            http.get(f"http://127.0.0.1:{health_port}/readyz") as response,
        ):
            return response.status == 200
    except (aiohttp.ClientError, TimeoutError):
        return False


@dataclass
class Replica:
    """One ``statbot run`` process; its output in ``root/replica-<i>-<run>.log``."""

    index: int
    root: Path
    env: dict[str, str]
    webhook_port: int = field(default_factory=free_port)
    health_port: int = field(default_factory=free_port)
    popen: subprocess.Popen[bytes] | None = None
    runs: int = 0
    frozen: bool = False
    command: str = "run"

    @property
    def name(self) -> str:
        return f"{'r' if self.command == 'run' else 'w'}{self.index}"

    @property
    def backend(self) -> Backend:
        return Backend(self.name, self.webhook_port, self.health_port)

    @property
    def log(self) -> Path:
        return self.root / f"{self.name}-{self.runs}.log"

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def start(self) -> None:
        """Start ``statbot run`` (or ``statbot <command>``, such as ``worker``)."""
        assert not self.alive, f"{self.name} is running"
        self.runs += 1
        env = {
            **self.env,
            "STATBOT_HEALTH_PORT": str(self.health_port),
            "STATBOT_WEBHOOK_PORT": str(self.webhook_port),
        }
        with self.log.open("wb") as out:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "statbot", self.command],
                cwd=self.root,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    async def wait_ready(self, within: float = 90.0) -> None:
        deadline = time.monotonic() + within
        while not await _ready(self.health_port):
            assert self.popen is not None
            if self.popen.poll() is not None:
                raise AssertionError(
                    f"{self.name} exited {self.popen.returncode}:\n{self.output()[-3000:]}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} not ready in {within} s:\n{self.output()}")
            await asyncio.sleep(0.1)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the running process has used so far (Linux /proc)."""
        assert self.popen is not None
        fields = Path(f"/proc/{self.popen.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def _signal(self, sig: int) -> None:
        assert self.popen is not None
        os.kill(self.popen.pid, sig)

    def kill(self) -> None:
        """SIGKILL, as a crashed machine: nothing drains, nothing is flushed."""
        if self.frozen:
            self.thaw()
        if self.alive:
            self._signal(signal.SIGKILL)
            assert self.popen is not None
            self.popen.wait(10)

    def freeze(self) -> None:
        """SIGSTOP: the process keeps its sockets and leases but does nothing (a GC pause, a
        stalled VM) until :meth:`thaw`."""
        self._signal(signal.SIGSTOP)
        self.frozen = True

    def thaw(self) -> None:
        self._signal(signal.SIGCONT)
        self.frozen = False

    async def restart(self) -> None:
        self.kill()
        self.start()
        await self.wait_ready()

    def terminate(self) -> None:
        """SIGTERM without waiting (several replicas drain at once); :meth:`end` waits."""
        if self.frozen:
            self.thaw()
        if self.alive:
            self._signal(signal.SIGTERM)

    def end(self) -> None:
        """SIGTERM (drain), SIGKILL if it does not exit in time; only this replica's PID."""
        if self.frozen:
            self.thaw()
        if not self.alive:
            return
        assert self.popen is not None
        self._signal(signal.SIGTERM)
        try:
            self.popen.wait(30)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.popen.wait(10)


@contextlib.contextmanager
def temporal_server(workdir: Path) -> Iterator[str]:
    server = TemporalDevServer(workdir)
    server.start()
    try:
        yield server.address
    finally:
        server.stop()


@dataclass
class Cluster:
    replicas: list[Replica]
    workers: list[Replica]
    balancer: LoadBalancer
    redis_url: str
    database_url: str
    data_dir: Path

    def live(self) -> list[Replica]:
        return [r for r in self.replicas if r.alive and not r.frozen]

    def logs(self) -> str:
        procs = [*self.replicas, *self.workers]
        return "\n".join(f"--- {r.name}\n{r.output()[-2000:]}" for r in procs)


def replica_env(
    api_url: str,
    webhook_url: str,
    redis_url: str,
    database_url: str,
    data_dir: Path,
    temporal_address: str,
    **extra: str,
) -> dict[str, str]:
    """The replicas' environment; ``extra`` adds to it or overrides it."""
    settings = dict(
        STATBOT_JOBS="temporal",
        STATBOT_TEMPORAL_ADDRESS=temporal_address,
        STATBOT_TEMPORAL_TASK_QUEUE=task_queue(),
        STATBOT_TELEGRAM_TOKEN=TOKEN,
        STATBOT_TELEGRAM_API_URL=api_url,
        STATBOT_WEBHOOK_URL=webhook_url,
        STATBOT_WEBHOOK_SECRET=SECRET,
        STATBOT_SESSION_STORE=redis_url,
        STATBOT_DATABASE_URL=database_url,
        STATBOT_DATA_DIR=str(data_dir),
        # The load is many users at once, not one user flooding: the per-user bucket (issue 12)
        # would otherwise refuse a fast simulated user's burst.
        STATBOT_RATE_LIMIT_PER_MINUTE="0",
        STATBOT_LOG_FORMAT="text",
    )
    return newcomer_env(**{**settings, **extra})


@contextlib.asynccontextmanager
async def replica_cluster(
    root: Path, api_url: str, count: int = 3, *, workers: int = 0, **extra: str
) -> AsyncIterator[Cluster]:
    """``count`` replicas (and ``workers`` job workers) + redis-server + PostgreSQL + Temporal
    behind HAProxy, all on 127.0.0.1.

    ``api_url`` is the sandbox's (its bot token must be :data:`TOKEN`); every replica sets the
    balancer's URL as the webhook, so the sandbox delivers through HAProxy.
    """
    data_dir = root / "data"
    with contextlib.ExitStack() as stack:
        # Starting the engines blocks this loop for a few seconds; no replica talks to the
        # sandbox before they are up, so nothing waits on it meanwhile.
        redis_url = stack.enter_context(redis_server(root / "redis"))
        database_url = stack.enter_context(postgres_database())
        temporal = stack.enter_context(temporal_server(root / "temporal"))
        replicas = [Replica(i, root, {}) for i in range(count)]
        pool = [Replica(i, root, {}, command="worker") for i in range(workers)]
        balancer = stack.enter_context(load_balancer(root, [r.backend for r in replicas]))
        env = replica_env(
            api_url, balancer.url + "/telegram", redis_url, database_url, data_dir, temporal,
            **extra,
        )  # fmt: skip
        cluster = Cluster(replicas, pool, balancer, redis_url, database_url, data_dir)
        try:
            for replica in [*replicas, *pool]:
                replica.env = env
                replica.start()
            await asyncio.gather(*(r.wait_ready() for r in replicas))
            yield cluster
        finally:
            procs = [*replicas, *pool]
            for replica in procs:
                replica.terminate()
            for replica in procs:
                replica.end()
