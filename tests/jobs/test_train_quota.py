"""The storage quota in the training job (issue 12): a model that takes its user past the quota
is not kept, and the job fails with the quota's message; within the quota it is kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from statbot.access.limits import QuotaExceeded
from statbot.analysis.io.datasets import DatasetStore
from statbot.jobs import get_job
from statbot.jobs.kinds import DEFAULT_MODULES, load_job_modules
from statbot.jobs.train_io import StoredDataset, TrainInput


def stored(tmp_path: Path) -> StoredDataset:
    rng = np.random.default_rng(3)
    x = rng.normal(size=60)
    frame = pd.DataFrame({"x": x, "y": 2 * x + rng.normal(scale=0.1, size=60)})
    return StoredDataset(DatasetStore(tmp_path / "data").put(5, frame, name="line"))


def payload(tmp_path: Path, max_storage_mb: float | None) -> dict[str, object]:
    job = TrainInput(user_id=5, idempotency_key="k1", data_dir=tmp_path / "data",
                     source=stored(tmp_path), target="y", model="linear", cv=3,
                     max_storage_mb=max_storage_mb)  # fmt: skip
    return job.to_dict()


def models_of(tmp_path: Path) -> list[str]:
    folder = tmp_path / "data" / "models" / "5"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_a_model_past_the_storage_quota_is_not_kept(tmp_path: Path) -> None:
    load_job_modules(DEFAULT_MODULES)
    data = payload(tmp_path, max_storage_mb=0.01)  # 10 KB: the dataset fits, the model not
    assert DatasetStore(tmp_path / "data").user_bytes(5) < 0.01 * 2**20
    with pytest.raises(QuotaExceeded) as caught:
        get_job("train")(data, lambda f, m: None, tmp_path / "work")
    assert "the trained model was not kept" in caught.value.user_message
    assert models_of(tmp_path) == []


def test_within_the_quota_the_model_is_kept(tmp_path: Path) -> None:
    load_job_modules(DEFAULT_MODULES)
    result = get_job("train")(payload(tmp_path, 50.0), lambda f, m: None, tmp_path / "work")
    assert models_of(tmp_path) == sorted([f"{result['model_id']}.json",
                                          f"{result['model_id']}.skops"])  # fmt: skip
