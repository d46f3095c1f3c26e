"""The temporal tier's fixtures: one real dev server for the session, a fresh task queue and
runner factory per test, and ``statbot worker`` processes the tests can SIGKILL."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.iris import iris_csv  # noqa: F401  (a fixture, used by name)
from tests.support.temporal import TemporalDevServer, task_queue

from statbot.engine.events import EventKind
from statbot.jobs.temporal.runner import TemporalJobRunner

KINDS = str(Path(__file__).parents[1] / "kinds.py")


@pytest.fixture(scope="session")
def temporal_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TemporalDevServer]:
    server = TemporalDevServer(tmp_path_factory.mktemp("temporal"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def queue() -> str:
    return task_queue()


@pytest.fixture
async def make_temporal(
    tmp_path: Path, recorder: Any, temporal_server: TemporalDevServer, queue: str
) -> AsyncIterator[Callable[..., TemporalJobRunner]]:
    made: list[TemporalJobRunner] = []

    def factory(**options: Any) -> TemporalJobRunner:
        options.setdefault("emit", recorder)
        options.setdefault("address", temporal_server.address)
        options.setdefault("task_queue", queue)
        options.setdefault("modules", (KINDS,))
        options.setdefault("progress_interval_s", 0.1)
        options.setdefault("default_memory_mb", None)
        options.setdefault("default_timeout_s", 60)
        options.setdefault("heartbeat_timeout_s", 3)
        runner = TemporalJobRunner(options.pop("data_dir", tmp_path / "var"), **options)
        made.append(runner)
        return runner

    yield factory
    for runner in made:
        await runner.stop()


class Workers:
    """``statbot worker`` processes on the test's task queue, each its own process group."""

    def __init__(self, address: str, queue: str, data_dir: Path, log_dir: Path) -> None:
        self.env = dict(os.environ)
        self.env.update(
            STATBOT_TEMPORAL_ADDRESS=address,
            STATBOT_TEMPORAL_TASK_QUEUE=queue,
            STATBOT_DATA_DIR=str(data_dir),
            STATBOT_JOB_MEMORY_MB="4096",
        )
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        statbot = str(Path(sys.executable).with_name("statbot"))
        with open(self.log_dir / f"worker-{len(self.procs)}.log", "ab") as log:
            proc = subprocess.Popen(
                [statbot, "worker", "--job-module", KINDS],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.procs.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    self.kill(proc)


@pytest.fixture
def workers(temporal_server: TemporalDevServer, queue: str, tmp_path: Path) -> Iterator[Workers]:
    pool = Workers(temporal_server.address, queue, tmp_path / "var", tmp_path)
    yield pool
    pool.stop_all()


async def finished_events(recorder: Any, job_id: str, seconds: float = 60.0) -> list[Any]:
    """The job's JOB_FINISHED events, once there is one (and a moment for a repeat)."""
    deadline = time.monotonic() + seconds
    while not recorder.of(job_id, EventKind.JOB_FINISHED):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no JOB_FINISHED for {job_id}; events: {recorder.events}")
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)
    return list(recorder.of(job_id, EventKind.JOB_FINISHED))
