"""The ``train`` job's typed input and output: round trips, old payloads, bad payloads, limits."""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from statbot.analysis.io.datasets import DatasetRef, DatasetStore
from statbot.analysis.io.limits import DataLimits
from statbot.errors import DataError, JobError
from statbot.jobs import JobStatus, get_job
from statbot.jobs.builtin import train_spec
from statbot.jobs.kinds import DEFAULT_MODULES, load_job_modules
from statbot.jobs.train_io import (
    BadJobInput,
    DatasetFile,
    StoredDataset,
    TrainInput,
    TrainOutput,
)

REF = DatasetRef(user_id=5, digest="ab" * 16, name="shop")


def frame(rows: int = 80) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    x = rng.normal(size=rows)
    colour = rng.choice(["red", "green", "blue"], size=rows)
    label = np.where(x + (colour == "red") + rng.normal(scale=0.3, size=rows) > 0.5, "yes", "no")
    zip_code = rng.choice([10115, 20095, 80331], size=rows)
    return pd.DataFrame({"x": x, "colour": colour, "zip": zip_code, "bought": label})


def job_input(tmp_path: Path, source, **kw) -> TrainInput:
    return TrainInput(
        user_id=5,
        idempotency_key="train:console:5:5:u7",
        data_dir=tmp_path / "data",
        source=source,
        target="bought",
        **kw,
    )


def run(payload: dict, workdir: Path) -> TrainOutput:
    load_job_modules(DEFAULT_MODULES)
    return TrainOutput.from_dict(get_job("train")(payload, lambda f, m: None, workdir))


@pytest.mark.parametrize(
    "source",
    [
        StoredDataset(REF),
        DatasetFile(Path("/srv/data/shop.csv")),
        DatasetFile(Path("/srv/data/shop.csv"), "x:float", (Path("/srv/data"), Path("/mnt"))),
    ],
    ids=["stored", "file", "server-path"],
)
def test_train_input_round_trips_through_json(tmp_path, source):
    job = job_input(
        tmp_path,
        source,
        limits=DataLimits(max_rows=1000, max_file_mb=1.5),
        features=("x", "colour"),
        model="logistic",
        cv=3,
        seed=11,
        name="mine",
        overrides={"zip": "category"},
        tune=True,
    )
    payload = json.loads(json.dumps(job.to_dict()))
    assert TrainInput.from_dict(payload) == job


def test_train_spec_is_keyed_by_the_idempotency_key(tmp_path):
    job = job_input(tmp_path, StoredDataset(REF))
    spec = train_spec(job, key="console:5:5", timeout_s=60, memory_mb=512)
    again = train_spec(job, key="console:5:5")
    other = train_spec(job_input(tmp_path, StoredDataset(REF), model="linear"), key="console:5:5")
    assert spec.job_id == again.job_id == other.job_id  # same key → same job
    assert spec.kind == "train" and spec.user_id == 5
    assert (spec.timeout_s, spec.memory_mb) == (60, 512)
    assert spec.payload == job.to_dict()


def test_an_old_payload_of_a_stored_dataset_still_runs(tmp_path):
    """What the bot wrote into the job table before the input was typed: a stored dataset's
    Parquet file as ``dataset_path``, no limits, no roots, a list of features."""
    ref = DatasetStore(tmp_path / "data").put(5, frame(), name="shop")
    parquet = DatasetStore(tmp_path / "data").parquet_path(ref)
    old = {
        "user_id": 5,
        "idempotency_key": "train:console:5:5:u41",
        "data_dir": str(tmp_path / "data"),
        "dataset": None,
        "dataset_path": str(parquet),
        "schema": None,
        "limits": None,
        "roots": None,
        "overrides": {},
        "target": "bought",
        "features": ["x", "colour"],
        "model": "logistic",
        "cv": 5,
        "seed": 0,
        "name": None,
    }
    job = TrainInput.from_dict(old)
    assert job.source == DatasetFile(parquet)
    assert job.tune is False  # no "tune" before issue 11
    assert job.limits == DataLimits()
    assert job.features == ("x", "colour")
    result = run(old, tmp_path / "w")
    assert result.card["target"] == "bought"
    assert [f["name"] for f in result.card["features"]] == ["x", "colour"]
    assert Path(result.model_path).is_file()


def test_an_old_payload_of_a_deferred_server_path_still_runs(tmp_path):
    """The old deferred shape: limits as a dict of every DataLimits field, roots as strings."""
    folder = tmp_path / "srv"
    folder.mkdir()
    frame().to_csv(folder / "shop.csv", index=False)
    old = {
        "user_id": 5,
        "idempotency_key": "train:console:5:5:u42",
        "data_dir": str(tmp_path / "data"),
        "dataset": None,
        "dataset_path": str(folder / "shop.csv"),
        "schema": "x:float, colour:category",
        "limits": asdict(DataLimits(max_rows=100_000)),
        "roots": [str(folder)],
        "overrides": {"zip": "category"},
        "target": "bought",
        "features": None,
        "model": "logistic",
        "cv": 3,
        "seed": 0,
        "name": None,
    }
    job = TrainInput.from_dict(old)
    assert job.source == DatasetFile(folder / "shop.csv", "x:float, colour:category", (folder,))
    assert job.limits.max_rows == 100_000
    result = run(old, tmp_path / "w")
    assert result.name.endswith(" for bought")  # no name: named after the estimator
    kinds = {f["name"]: f["kind"] for f in result.card["features"]}
    assert kinds["zip"] in ("categorical", "category")  # the old overrides were applied


def test_an_old_payload_with_falsy_defaults_means_the_defaults(tmp_path):
    old = job_input(tmp_path, StoredDataset(REF)).to_dict() | {
        "model": "",
        "cv": 0,
        "seed": None,
        "name": "",
        "overrides": None,
    }
    job = TrainInput.from_dict(old)
    assert (job.model, job.cv, job.seed, job.name, dict(job.overrides)) == ("auto", 5, 0, None, {})


def _payload(tmp_path: Path) -> dict:
    return job_input(tmp_path, StoredDataset(REF)).to_dict()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"user_id": None}, "user_id"),
        ({"user_id": "5"}, "user_id"),
        ({"user_id": True}, "user_id"),
        ({"target": 3}, "target"),
        ({"idempotency_key": None}, "idempotency_key"),
        ({"data_dir": None}, "data_dir"),
        ({"dataset": None}, "dataset"),  # neither source
        ({"dataset_path": "/x.csv"}, "dataset"),  # both sources
        ({"dataset": ["ab"]}, "dataset"),
        ({"dataset": {"digest": "ab" * 16}}, "dataset"),
        ({"dataset": {"user_id": 6, "digest": "ab" * 16, "name": "x"}}, "dataset"),
        ({"schema": "x:float"}, "schema"),  # a stored dataset has no spec
        ({"roots": ["/srv"]}, "roots"),
        ({"limits": {"max_rows": -1}}, "limits"),
        ({"limits": {"max_rows": "many"}}, "limits"),
        ({"limits": {"max_gigabytes": 1}}, "limits"),
        ({"limits": [1, 2]}, "limits"),
        ({"features": "x,colour"}, "features"),
        ({"features": ["x", 1]}, "features"),
        ({"overrides": {"zip": 1}}, "overrides"),
        ({"cv": 1}, "cv"),
        ({"cv": "5"}, "cv"),
        ({"model": ["auto"]}, "model"),
        ({"tune": "yes"}, "tune"),
    ],
)
def test_a_malformed_payload_is_a_clear_error(tmp_path, change, field):
    with pytest.raises(BadJobInput) as err:
        TrainInput.from_dict(_payload(tmp_path) | change)
    assert err.value.field == field
    assert isinstance(err.value, JobError)
    assert "could not be read" in err.value.user_message


def test_a_malformed_server_path_payload_is_a_clear_error(tmp_path):
    payload = _payload(tmp_path) | {"dataset": None, "dataset_path": "/x.csv", "roots": "/srv"}
    with pytest.raises(BadJobInput) as err:
        TrainInput.from_dict(payload)
    assert err.value.field == "roots"
    with pytest.raises(BadJobInput) as err:
        TrainInput.from_dict(["not", "a", "payload"])  # type: ignore[arg-type]
    assert err.value.field == "payload"


async def test_a_malformed_payload_fails_the_job_without_a_retry(tmp_path, make_runner):
    runner = make_runner(modules=DEFAULT_MODULES, data_dir=tmp_path)
    await runner.start()
    spec = train_spec(job_input(tmp_path, StoredDataset(REF)), key="console:5:5")
    broken = type(spec)(**{**asdict(spec), "payload": {**spec.payload, "cv": "five"}})
    info = await runner.submit(broken)
    async with asyncio.timeout(60):
        done = await runner.wait(info.job_id)
    assert done.status is JobStatus.FAILED and done.attempts == 1
    assert done.error is not None and "could not be read (cv)" in done.error


def test_a_stored_dataset_is_read_under_the_limits_passed_in(tmp_path):
    """Not the defaults: an operator's lower row limit stops a stored dataset too."""
    ref = DatasetStore(tmp_path / "data").put(5, frame(80), name="shop")
    tight = job_input(tmp_path, StoredDataset(ref), limits=DataLimits(max_rows=50), cv=3)
    with pytest.raises(DataError) as err:
        run(tight.to_dict(), tmp_path / "w1")
    assert "50" in err.value.user_message
    roomy = job_input(tmp_path, StoredDataset(ref), limits=DataLimits(max_rows=80), cv=3)
    assert run(roomy.to_dict(), tmp_path / "w2").card["n_rows"] == 80


def test_train_output_round_trips_and_rejects_a_malformed_result():
    out = TrainOutput(
        summary="Training finished.",
        model_id="m1",
        name="mine",
        model_path="/data/models/5/m1.skops",
        card={"model_id": "m1", "metrics": {"cv": {}}},
        warnings=("A note.",),
        charts={"roc": "/w/charts/roc.png"},
    )
    assert TrainOutput.from_dict(json.loads(json.dumps(out.to_dict()))) == out
    minimal = {k: v for k, v in out.to_dict().items() if k not in ("warnings", "charts")}
    assert TrainOutput.from_dict(minimal).charts == {}
    for change in ({"card": None}, {"model_id": None}, {"charts": ["roc"]}, {"warnings": "x"}):
        with pytest.raises(BadJobInput):
            TrainOutput.from_dict(out.to_dict() | change)
