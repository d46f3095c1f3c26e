"""statbot.wiring: one build of the core for statbot run, statbot chat and the ChatDriver, and
one owner of user-data deletion (issue 10: three hand wirings had drifted — only the app
deleted an expired session's datasets)."""

from __future__ import annotations

import time
from pathlib import Path

from statbot.testing import ChatDriver
from statbot.wiring import UserData


def _iris(tmp_path: Path) -> Path:
    from sklearn.datasets import load_iris

    path = tmp_path / "iris.csv"
    load_iris(as_frame=True).frame.to_csv(path, index=False)
    return path


async def test_the_driver_runs_the_bots_wiring(tmp_path: Path) -> None:
    async with ChatDriver(tmp_path / "var") as chat:
        assert isinstance(chat.core.userdata, UserData)
        assert chat.manager is chat.core.manager and chat.services is chat.core.services
        assert chat.jobs is None  # built without a runner: jobs=False


async def test_an_expired_session_takes_its_datasets(tmp_path: Path) -> None:
    async with ChatDriver(tmp_path / "var") as chat:
        await chat.send("/explore")
        await chat.upload(_iris(tmp_path))
        stored = list((chat.data_dir / "datasets").rglob("*.parquet"))
        assert len(stored) == 1
        later = time.time() + 2 * 3600
        assert (await chat.manager.sweep(now=later))["to_grace"] == 1
        assert stored[0].exists(), "resumable during the grace period"
        assert (await chat.manager.sweep(now=later + 2 * 24 * 3600))["deleted"] == 1
        assert not stored[0].exists()


async def test_forget_deletes_every_kind_of_user_data(tmp_path: Path) -> None:
    async with ChatDriver(tmp_path / "var") as chat:
        user = chat.key.user_id
        await chat.send("/explore")
        await chat.upload(_iris(tmp_path))
        for folder in ("staging", "results", "console"):
            (chat.data_dir / folder / str(user)).mkdir(parents=True, exist_ok=True)
        menu = chat.data_dir / "console" / f"menu-{user}.json"
        menu.write_text("{}")
        await chat.core.userdata.forget(user)
        assert not list((chat.data_dir / "datasets").rglob("*.parquet"))
        assert not (chat.data_dir / "staging" / str(user)).exists()
        assert not (chat.data_dir / "results" / str(user)).exists()
        assert not menu.exists()


async def test_temporal_jobs_are_wired_and_say_what_they_cannot_reach(tmp_path: Path) -> None:
    """STATBOT_JOBS=temporal builds the Temporal runner (issue 14; it was refused before),
    and a server that does not answer is named at start, not hidden behind local jobs."""
    import pytest

    from statbot.config import load_settings
    from statbot.errors import JobError
    from statbot.jobs.temporal.runner import TemporalJobRunner
    from statbot.wiring import build_core
    from tests.support.temporal import free_port

    address = f"127.0.0.1:{free_port()}"  # nothing listens there
    settings = load_settings(data_dir=tmp_path / "var", jobs="temporal", temporal_address=address)
    core = build_core(settings)
    assert isinstance(core.jobs, TemporalJobRunner) and core.services.jobs is core.jobs
    assert core.jobs.address == address and core.jobs.task_queue == "statbot-jobs"
    with pytest.raises(JobError) as info:
        await core.start_jobs()
    assert address in str(info.value)
    assert core.jobs is None  # the workflows then say jobs are not available here
