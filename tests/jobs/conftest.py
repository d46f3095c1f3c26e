"""Fixtures for the job runner tests: a recording ``emit`` and a runner factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from statbot.engine.events import Event, EventKind
from statbot.jobs import JobSpec
from statbot.jobs.local import LocalJobRunner

KINDS = str(Path(__file__).with_name("kinds.py"))


class Recorder:
    """The engine's ``submit`` stand-in: records every event it accepts."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.fail_finished = 0  # refuse this many JOB_FINISHED deliveries first

    async def __call__(self, event: Event) -> bool:
        if event.kind is EventKind.JOB_FINISHED and self.fail_finished > 0:
            self.fail_finished -= 1
            raise ConnectionError("engine unavailable")
        self.events.append(event)
        return True

    def of(self, job_id: str, kind: EventKind | None = None) -> list[Event]:
        return [
            e
            for e in self.events
            if e.job and e.job["job_id"] == job_id and (kind is None or e.kind is kind)
        ]


def spec(kind: str = "test.steps", *, user: int = 1, key: str = "k1", **payload: Any) -> JobSpec:
    return JobSpec(
        kind=kind,
        key=f"console:{user}:{user}",
        user_id=user,
        idempotency_key=key,
        payload=payload,
    )


@pytest.fixture
def make_spec() -> Callable[..., JobSpec]:
    return spec


@pytest.fixture
def kinds_path() -> str:
    return KINDS


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def make_runner(
    tmp_path: Path, recorder: Recorder
) -> AsyncIterator[Callable[..., LocalJobRunner]]:
    made: list[LocalJobRunner] = []

    def factory(**options: Any) -> LocalJobRunner:
        options.setdefault("emit", recorder)
        options.setdefault("modules", (KINDS,))
        options.setdefault("progress_interval_s", 0)
        options.setdefault("default_memory_mb", None)
        options.setdefault("default_timeout_s", 60)
        options.setdefault("tick_s", 0.1)
        options.setdefault("redeliver_s", 0.1)
        runner = LocalJobRunner(options.pop("data_dir", tmp_path), **options)
        made.append(runner)
        return runner

    yield factory
    for runner in made:
        await runner.stop()


# The job table lives on the catalog database: its tests run on SQLite and PostgreSQL.
from tests.support.catalog import catalog, catalog_url  # noqa: E402, F401
from tests.support.postgres import postgres_server, postgres_url  # noqa: E402, F401
