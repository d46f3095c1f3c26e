"""The production ``train`` kind: real analysis code, in a real worker subprocess and in-process."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from statbot.analysis.io.datasets import DatasetRef
from statbot.engine.events import EventKind
from statbot.errors import DataError, StatbotError
from statbot.jobs import JobStatus, get_job
from statbot.jobs.builtin import train_spec
from statbot.jobs.kinds import DEFAULT_MODULES, load_job_modules
from statbot.jobs.train_io import DatasetFile, StoredDataset, TrainInput, TrainOutput

PNG = b"\x89PNG\r\n\x1a\n"


def frame(rows: int = 80) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    x = rng.normal(size=rows)
    colour = rng.choice(["red", "green", "blue"], size=rows)
    label = np.where(x + (colour == "red") + rng.normal(scale=0.3, size=rows) > 0.5, "yes", "no")
    zip_code = rng.choice([10115, 20095, 80331], size=rows)
    return pd.DataFrame({"x": x, "colour": colour, "zip": zip_code, "bought": label})


def _head(path: str) -> bytes:
    return Path(path).read_bytes()[:8]


def spec_for(
    tmp_path, source, *, key: str = "u100", target: str = "bought", model="logistic", **kw
):
    job = TrainInput(
        user_id=5,
        idempotency_key=key,
        data_dir=tmp_path / "data",
        source=source,
        target=target,
        model=model,
        cv=3,
        **kw,
    )
    return train_spec(job, key="console:5:5")


def run(payload: dict, workdir: Path, seen: list | None = None) -> TrainOutput:
    load_job_modules(DEFAULT_MODULES)
    report = (lambda f, m: seen.append((f, m))) if seen is not None else (lambda f, m: None)
    return TrainOutput.from_dict(get_job("train")(payload, report, workdir))


async def test_train_job_on_a_stored_dataset_saves_one_model_with_charts(
    tmp_path, make_runner, recorder
):
    from statbot.analysis.io.datasets import DatasetStore

    ref = DatasetStore(tmp_path / "data").put(5, frame(), name="shop")
    runner = make_runner(modules=DEFAULT_MODULES, default_memory_mb=2048, data_dir=tmp_path)
    await runner.start()
    info = await runner.submit(spec_for(tmp_path, StoredDataset(ref)))
    async with asyncio.timeout(120):
        done = await runner.wait(info.job_id)
    assert done.status is JobStatus.SUCCEEDED, done.error
    assert done.result is not None
    result = TrainOutput.from_dict(done.result)
    card = result.card
    assert card["task"] == "binary" and card["target"] == "bought"
    assert result.model_id == card["model_id"]
    assert result.model_path == str(tmp_path / "data" / "models" / "5" / f"{result.model_id}.skops")
    models = sorted((tmp_path / "data" / "models" / "5").iterdir())
    assert [p.name for p in models] == [f"{result.model_id}.json", f"{result.model_id}.skops"]
    assert _listed(tmp_path, 5) == [result.model_id]  # the worker listed it on the catalog
    # one model and its baseline: the leaderboard chart shows them side by side (issue 11)
    assert set(result.charts) == {"confusion_matrix", "roc", "importance", "leaderboard"}
    assert all(_head(path) == PNG for path in result.charts.values())
    messages = [e.job["message"] for e in recorder.of(info.job_id, EventKind.JOB_PROGRESS)]
    assert "Saving the model" in messages


def test_a_rerun_of_the_same_job_reuses_the_model(tmp_path):
    """What a resumed run does: same idempotency key → same model id, one model file."""
    dataset = tmp_path / "ds.csv"
    frame().to_csv(dataset, index=False)
    payload = spec_for(
        tmp_path,
        DatasetFile(dataset, "x:float, colour:category"),
        target="x",
        model="linear",
        overrides={"zip": "category"},
    ).payload
    seen: list[tuple[float, str]] = []
    first = run(payload, tmp_path / "w1", seen)
    second = run(payload, tmp_path / "w2")
    assert first.model_id == second.model_id
    assert len(list((tmp_path / "data" / "models" / "5").glob("*.skops"))) == 1
    assert first.card["task"] == "regression"
    kinds = {f["name"]: f for f in first.card["features"]}
    assert kinds["zip"]["kind"] in ("categorical", "category")  # the override was applied
    assert set(first.charts) == {"predicted_vs_actual", "residuals", "importance", "leaderboard"}
    assert first.warnings == ()
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_missing_data_is_a_clear_error(tmp_path):
    with pytest.raises(DataError) as err:
        run(spec_for(tmp_path, DatasetFile(tmp_path / "gone.csv")).payload, tmp_path / "w")
    assert err.value.user_message == "The file 'gone.csv' is no longer there, so training stopped."
    ref = DatasetRef(user_id=5, digest="ab" * 16, name="shop")
    with pytest.raises(DataError) as err:
        run(spec_for(tmp_path, StoredDataset(ref)).payload, tmp_path / "w")
    assert "no longer stored" in err.value.user_message


def test_a_schema_that_does_not_fit_is_a_clear_error(tmp_path):
    dataset = tmp_path / "ds.csv"
    frame().to_csv(dataset, index=False)
    payload = spec_for(tmp_path, DatasetFile(dataset, "price:float")).payload
    with pytest.raises(StatbotError) as err:
        run(payload, tmp_path / "w")
    assert "price" in err.value.user_message


@pytest.mark.slow
async def test_sigkill_of_the_bot_during_training_gives_exactly_one_model(
    tmp_path, make_runner, recorder
):
    """The issue's acceptance test: kill the bot mid-training; the job resumes and completes
    exactly once — one model in the registry, one JOB_FINISHED id."""
    import json
    import signal
    import sys

    from statbot.analysis.io.datasets import DatasetStore

    rows = frame(1000)
    ref = DatasetStore(tmp_path / "data").put(5, rows, name="shop")
    spec = spec_for(tmp_path, StoredDataset(ref), model="random_forest", key="u900")
    events_file = tmp_path / "events.jsonl"
    host_py = str(Path(__file__).with_name("host.py"))
    args = [str(tmp_path), str(events_file), ",".join(DEFAULT_MODULES), json.dumps(spec.to_dict())]
    host = await asyncio.create_subprocess_exec(sys.executable, host_py, *args)

    def training() -> bool:
        if not events_file.exists():
            return False
        return "fold 1/" in events_file.read_text()

    try:
        async with asyncio.timeout(120):
            while not training():  # noqa: ASYNC110 - polling a file another process writes
                await asyncio.sleep(0.02)
        host.send_signal(signal.SIGKILL)
    finally:
        if host.returncode is None:
            host.kill()
        await host.wait()
    assert not (tmp_path / "data" / "models" / "5").exists()  # killed before saving
    import sqlite3

    import psutil

    db = sqlite3.connect(tmp_path / "catalog.sqlite")
    (worker_pid,) = db.execute("SELECT pid FROM jobs").fetchone()
    db.close()

    def worker_gone() -> bool:
        try:
            return psutil.Process(worker_pid).status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True

    async with asyncio.timeout(5):  # the worker dies with the bot (PR_SET_PDEATHSIG)
        while not worker_gone():  # noqa: ASYNC110 - polling another process
            await asyncio.sleep(0.02)

    runner = make_runner(modules=DEFAULT_MODULES, data_dir=tmp_path)
    await runner.start()
    async with asyncio.timeout(180):
        done = await runner.wait(spec.job_id)
    assert done.status is JobStatus.SUCCEEDED and done.attempts == 2, done.error
    assert done.result is not None
    models = sorted(p.name for p in (tmp_path / "data" / "models" / "5").iterdir())
    assert models == [f"{done.result['model_id']}.json", f"{done.result['model_id']}.skops"]
    assert _listed(tmp_path, 5) == [done.result["model_id"]]  # listed once
    async with asyncio.timeout(10):
        while not recorder.of(spec.job_id, EventKind.JOB_FINISHED):  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    first = recorder.of(spec.job_id, EventKind.JOB_PROGRESS)[0]
    assert first.job is not None and first.job["message"] == "Resumed after a restart (attempt 2)"
    assert [e.event_id for e in recorder.of(spec.job_id, EventKind.JOB_FINISHED)] == [
        f"j{spec.job_id}:done"
    ]


def _listed(runner_dir, user_id):
    """The model ids the catalog of the runner's data dir lists for ``user_id`` (issue 12)."""
    from statbot.access.catalog import Catalog
    from statbot.access.storage import CatalogModels

    catalog = Catalog(f"sqlite:///{runner_dir / 'catalog.sqlite'}")
    try:
        return [card.model_id for card in CatalogModels(catalog).cards(user_id)]
    finally:
        catalog.close()
