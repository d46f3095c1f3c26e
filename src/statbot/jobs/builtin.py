"""Production job kinds. ``train``: fit a model on a stored dataset and save it to the user's
registry, in the worker subprocess (pandas/sklearn/matplotlib are imported there, not in the bot).

Idempotent: the model id is derived from the job's idempotency key (``ModelRegistry.save``), so a
run resumed after a crash saves the same model once; charts are written temp-then-rename.
Build the spec with :func:`train_spec` so the payload has every field the job reads.

The result (JSON): ``summary`` (one line for the user), ``model_id``, ``name``, ``model_path``,
``card`` (the model card as a dict: metrics, CV, leaderboard, importances), ``warnings``
(sentences for the user) and ``charts`` ({name: PNG path}: confusion_matrix/roc or
predicted_vs_actual/residuals, importance, leaderboard).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from statbot.errors import DataError
from statbot.jobs.base import JobSpec
from statbot.jobs.registry import Progress, register_job

if TYPE_CHECKING:
    import pandas as pd

    from statbot.analysis.ml.training import TrainResult

log = logging.getLogger(__name__)

TRAIN = "train"
# Share of the progress bar: loading, then training (ml.train's own fractions), then saving.
_LOAD, _TRAIN = 0.05, 0.85


def train_spec(
    *,
    key: str,
    user_id: int,
    idempotency_key: str,
    data_dir: Path,
    target: str,
    dataset: dict[str, Any] | None = None,
    dataset_path: Path | None = None,
    schema: str | None = None,
    limits: dict[str, Any] | None = None,
    roots: list[str] | None = None,
    overrides: dict[str, str] | None = None,
    features: list[str] | None = None,
    model: str = "auto",
    cv: int = 5,
    seed: int = 0,
    name: str | None = None,
    timeout_s: float | None = None,
    memory_mb: int | None = None,
) -> JobSpec:
    """The JobSpec of a training run, on exactly one of:

    - ``dataset``: a stored dataset (``DatasetRef.to_dict()``) of the dataset store, or
    - ``dataset_path``: a file read at training time (deferred loading of a server path) with
      :func:`statbot.analysis.io.load_path` under ``limits`` (``DataLimits`` fields), then cast to
      ``schema`` (a spec in the grammar of ``parse_schema_spec``) when given; with ``roots``
      (a server path's allowed folders) the path is checked against them again before the read.

    ``overrides`` ({column: type}) are the user's type corrections ("treat zip as category").
    """
    if (dataset is None) == (dataset_path is None):
        raise ValueError("give exactly one of dataset and dataset_path")
    payload: dict[str, Any] = {
        "user_id": user_id,
        "idempotency_key": idempotency_key,
        "data_dir": str(data_dir),
        "dataset": dataset,
        "dataset_path": str(dataset_path) if dataset_path is not None else None,
        "schema": schema,
        "limits": limits,
        "roots": roots,
        "overrides": overrides or {},
        "target": target,
        "features": features,
        "model": model,
        "cv": cv,
        "seed": seed,
        "name": name,
    }
    return JobSpec(TRAIN, key, user_id, idempotency_key, payload, timeout_s, memory_mb)


@register_job(TRAIN, label="training")
def train_job(payload: dict[str, Any], progress: Progress, workdir: Path) -> dict[str, Any]:
    from statbot.analysis.ml.registry import ModelRegistry
    from statbot.analysis.ml.training import train

    progress(0.0, "Loading the data")
    frame, warnings = _load(payload)
    progress(_LOAD, f"Loaded {len(frame)} rows")

    def scaled(fraction: float, message: str) -> None:
        progress(_LOAD + (_TRAIN - _LOAD) * fraction, message)

    result = train(
        frame,
        str(payload["target"]),
        payload.get("features"),
        model=str(payload.get("model") or "auto"),
        cv=int(payload.get("cv") or 5),
        seed=int(payload.get("seed") or 0),
        progress=scaled,
    )
    progress(_TRAIN, "Saving the model")
    registry = ModelRegistry(Path(payload["data_dir"]))
    user_id = int(payload["user_id"])
    name = str(payload.get("name") or f"{result.model_name} for {result.target}")
    card = registry.save(user_id, result, name, idempotency_key=str(payload["idempotency_key"]))
    progress(0.9, "Drawing the charts")
    warnings.extend(result.warnings)
    charts = _charts(result, workdir / "charts", warnings)
    progress(1.0, "Done")
    return {
        "summary": f"Training finished: model “{card.name}” (id {card.model_id}) is saved. "
        "See /models.",
        "model_id": card.model_id,
        "name": card.name,
        "model_path": str(registry.path_of(user_id, card.model_id)),
        "card": card.to_dict(),
        "warnings": warnings,
        "charts": charts,
    }


def _load(payload: dict[str, Any]) -> tuple[pd.DataFrame, list[str]]:
    warnings: list[str] = []
    if payload.get("dataset"):
        from statbot.analysis.io.datasets import DatasetRef, DatasetStore

        ref = DatasetRef.from_dict(payload["dataset"])
        frame = DatasetStore(Path(payload["data_dir"])).get(ref)
    else:
        from statbot.analysis.io import load_path
        from statbot.analysis.io.limits import DataLimits

        path = Path(payload["dataset_path"])
        limits = DataLimits(**(payload.get("limits") or {}))
        if payload.get("roots") is not None:
            from statbot.analysis.io.paths import resolve_server_path

            # A server path: checked against the allowed folders again right before the read
            # (it may have become a link out of them since it was typed).
            roots = [Path(root) for root in payload["roots"]]
            path = resolve_server_path(str(path), roots, limits.max_file_bytes)
        elif not path.is_file():
            raise DataError(
                f"dataset file {path} is missing",
                user_message=f"The file '{path.name}' is no longer there, so training stopped.",
            )
        loaded = load_path(path, limits)
        frame, warnings = loaded.frame, list(loaded.warnings)
        if payload.get("schema"):
            from statbot.analysis.io.schema import parse_schema_spec, validate_against

            frame = validate_against(frame, parse_schema_spec(str(payload["schema"])))
    if payload.get("overrides"):
        from statbot.analysis.io.schema import apply_overrides

        frame = apply_overrides(frame, dict(payload["overrides"]))
    return frame, warnings


def _charts(result: TrainResult, directory: Path, warnings: list[str]) -> dict[str, str]:
    """The charts that fit the task, as PNG files: {name: path}; failures become warnings."""
    from statbot.analysis.report import charts

    directory.mkdir(parents=True, exist_ok=True)
    wanted: dict[str, Any] = {}
    if result.task == "regression":
        wanted["predicted_vs_actual"] = lambda: charts.scatter_fit(
            result.holdout_true, result.holdout_pred, f"actual {result.target}", "predicted"
        )
        wanted["residuals"] = lambda: charts.residuals_qq(
            result.holdout_pred, result.holdout_true - result.holdout_pred
        )
    else:
        wanted["confusion_matrix"] = lambda: charts.confusion_matrix_chart(
            result.holdout_true, result.holdout_pred, result.classes
        )
        if result.holdout_proba is not None:
            wanted["roc"] = lambda: charts.roc_curves(
                result.holdout_true, result.holdout_proba, result.classes
            )
    if result.importances:
        wanted["importance"] = lambda: charts.importance_bars(result.importances)
    if len(result.leaderboard) > 1:
        wanted["leaderboard"] = lambda: charts.leaderboard_bars(result.leaderboard)
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
