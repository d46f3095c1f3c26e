"""Production job kinds. ``train``: fit a model on a stored dataset and save it to the user's
models, in the worker subprocess (pandas/sklearn/matplotlib are imported there, not in the bot).

Idempotent: the model id is derived from the job's idempotency key (``SavedModels.save``), so a
run resumed after a crash saves the same model once; charts are written temp-then-rename.
Build the spec with :func:`train_spec` from a :class:`~statbot.jobs.train_io.TrainInput`; the
result is a :class:`~statbot.jobs.train_io.TrainOutput` as a dict. Charts: confusion_matrix/roc
or predicted_vs_actual/residuals, importance, leaderboard.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from statbot.errors import DataError
from statbot.jobs.base import JobSpec
from statbot.jobs.kinds import Progress, register_job
from statbot.jobs.train_io import DatasetFile, StoredDataset, TrainInput, TrainOutput

if TYPE_CHECKING:
    import pandas as pd

    from statbot.access.catalog import Catalog
    from statbot.analysis.ml.saved import SavedModels
    from statbot.analysis.ml.training import TrainResult

log = logging.getLogger(__name__)

TRAIN = "train"
# Share of the progress bar: loading, then training (ml.train's own fractions), then saving.
_LOAD, _TRAIN = 0.05, 0.85


def train_spec(
    job: TrainInput, *, key: str, timeout_s: float | None = None, memory_mb: int | None = None
) -> JobSpec:
    """The JobSpec of a training run; ``key`` is the conversation that receives its events.

    The job's id derives from ``job.idempotency_key``: the same key is the same job (and the
    same model id, see ``SavedModels.save``)."""
    return JobSpec(
        TRAIN, key, job.user_id, job.idempotency_key, job.to_dict(), timeout_s, memory_mb
    )


@register_job(TRAIN, label="training")
def train_job(payload: dict[str, Any], progress: Progress, workdir: Path) -> dict[str, Any]:
    from statbot.analysis.ml.estimators import default_model_name
    from statbot.analysis.ml.saved import SavedModels
    from statbot.analysis.ml.training import train

    job = TrainInput.from_dict(payload)  # BadJobInput fails the job without a retry
    progress(0.0, "Loading the data")
    frame, warnings = _load(job)
    progress(_LOAD, f"Loaded {len(frame)} rows")

    def scaled(fraction: float, message: str) -> None:
        progress(_LOAD + (_TRAIN - _LOAD) * fraction, message)

    result = train(
        frame,
        job.target,
        list(job.features) if job.features is not None else None,
        model=job.model,
        cv=job.cv,
        seed=job.seed,
        progress=scaled,
        tune=job.tune,
    )
    progress(_TRAIN, "Saving the model")
    name = job.name or default_model_name(result.model_name, result.target)
    with _catalog() as catalog:
        index = None
        if catalog is not None:
            from statbot.access.storage import CatalogModels

            index = CatalogModels(catalog)
        models = SavedModels(job.data_dir, index=index)
        card = models.save(job.user_id, result, name, idempotency_key=job.idempotency_key)
        _within_storage(job, models, card.model_id)
    progress(0.9, "Drawing the charts")
    warnings.extend(result.warnings)
    charts = _charts(result, workdir / "charts", warnings)
    progress(1.0, "Done")
    return TrainOutput(
        summary=f"Training finished: model “{card.name}” (id {card.model_id}) is saved. "
        "See /models.",
        model_id=card.model_id,
        name=card.name,
        model_path=str(models.path_of(job.user_id, card.model_id)),
        card=card.to_dict(),
        warnings=tuple(warnings),
        charts=charts,
    ).to_dict()


@contextlib.contextmanager
def _catalog() -> Iterator[Catalog | None]:
    """The runner's catalog database, where the saved model is listed (issue 12); None when the
    job runs without a runner (its model is then found by its card file alone)."""
    from statbot.access.catalog import Catalog
    from statbot.jobs.process import CATALOG_URL_ENV

    url = os.environ.get(CATALOG_URL_ENV)
    if not url:
        yield None
        return
    catalog = Catalog(url)
    try:
        catalog.check()  # a database a newer statbot migrated: fail, rather than guess
        yield catalog
    finally:
        catalog.close()


def _within_storage(job: TrainInput, models: SavedModels, model_id: str) -> None:
    """The user's storage quota (issue 12), checked once the model's size is known: a model
    that takes the user's datasets and models past it is removed again and the job fails with
    the quota's message (so nothing is kept that the quota does not allow)."""
    if job.max_storage_mb is None:
        return
    from statbot.access.limits import MB, storage_full
    from statbot.analysis.io.datasets import DatasetStore

    used = DatasetStore(job.data_dir).user_bytes(job.user_id) + models.user_bytes(job.user_id)
    if used > job.max_storage_mb * MB:
        models.delete(job.user_id, model_id)
        raise storage_full(job.max_storage_mb, used, "the trained model was not kept")


def _load(job: TrainInput) -> tuple[pd.DataFrame, list[str]]:
    """The job's one read of its data, under the operator's limits whatever the source."""
    from statbot.analysis.io import load_path

    source = job.source
    if isinstance(source, StoredDataset):
        from statbot.analysis.io.datasets import DatasetStore

        # Read through load_path, not DatasetStore.get, so that the limits apply to a stored
        # dataset too (an operator may have lowered them since it was stored).
        path = DatasetStore(job.data_dir).file_of(source.ref)
    elif source.roots is not None:
        from statbot.analysis.io.paths import resolve_server_path

        # A server path: checked against the allowed folders again right before the read
        # (it may have become a link out of them since it was typed).
        path = resolve_server_path(str(source.path), list(source.roots), job.limits.max_file_bytes)
    else:
        path = source.path
        if not path.is_file():
            raise DataError(
                f"dataset file {path} is missing",
                user_message=f"The file '{path.name}' is no longer there, so training stopped.",
            )
    loaded = load_path(path, job.limits)
    frame, warnings = loaded.frame, list(loaded.warnings)
    if isinstance(source, DatasetFile) and source.schema:
        from statbot.analysis.io.schema import parse_schema_spec, validate_against

        frame = validate_against(frame, parse_schema_spec(source.schema))
    if job.overrides:
        from statbot.analysis.io.schema import apply_overrides

        frame = apply_overrides(frame, dict(job.overrides))
    return frame, warnings


def _charts(result: TrainResult, directory: Path, warnings: list[str]) -> dict[str, str]:
    """The charts that fit the task, as PNG files: {name: path}; failures become warnings."""
    from statbot.analysis.report.train_charts import training_charts

    directory.mkdir(parents=True, exist_ok=True)
    wanted = training_charts(result)
    out: dict[str, str] = {}
    for name, draw in wanted.items():
        path = directory / f"{name}.png"
        tmp = directory / f".{name}.png.{os.getpid()}.tmp"
        try:
            tmp.write_bytes(draw())
        except Exception:  # the model is saved; a chart is not worth failing the job for
            log.exception("chart %s could not be drawn", name)
            warnings.append(f"The {name.replace('_', ' ')} chart could not be drawn.")
            continue
        os.replace(tmp, path)
        out[name] = str(path)
    return out
