"""One model's k-fold cross-validation on fixed splits, and the baseline scored on the same splits.

Every candidate, the baseline and every tuning trial see the *same* folds, so their scores are
paired fold by fold: the baseline comparison (:func:`compare_to_baseline`) and the tuning report
compare like with like. A regressor's out-of-fold predictions are kept, because their residuals
are what the prediction intervals are calibrated on (:mod:`statbot.analysis.ml.intervals`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from statbot.analysis.ml.estimators import build_model
from statbot.analysis.ml.metrics import LOWER_IS_BETTER, evaluate, summarise
from statbot.analysis.ml.pipeline import FeatureSpec, Task, build_pipeline
from statbot.analysis.ml.result import ProgressClock

Splits = list[tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]]
BASELINE = "baseline"
BASELINE_STRATEGY = {"regression": "mean", "binary": "most_frequent", "multiclass": "most_frequent"}


@dataclass
class CVRun:
    """Fold metrics, total fit seconds, whether a deadline cut the run short, and (regression)
    the out-of-fold predictions (NaN where a fold did not run)."""

    folds: list[dict[str, float]]
    fit_seconds: float
    cut: bool = False
    oof: np.ndarray[Any, Any] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class CVData:
    """The training rows, their feature specs, the fixed splits and the seed: one value, so every
    candidate and every tuning trial is cross-validated on exactly the same folds."""

    task: Task
    specs: list[FeatureSpec]
    x: pd.DataFrame
    y: np.ndarray[Any, Any]
    splits: Splits
    seed: int


def cross_validate(
    *,
    name: str,
    data: CVData,
    clock: ProgressClock | None,
    deadline: float | None,
    params: dict[str, Any] | None = None,
    label: str = "",
) -> CVRun:
    """``name`` (with ``params`` set on its model step) on every split, unless ``deadline``
    (a ``time.monotonic()`` value) would pass during the next fold; the first fold always runs."""
    task, specs, x, y, splits = data.task, data.specs, data.x, data.y, data.splits
    folds: list[dict[str, float]] = []
    fit_seconds = 0.0
    oof = np.full(len(y), np.nan) if task == "regression" else None
    for index, (train_idx, test_idx) in enumerate(splits, start=1):
        if deadline is not None and folds:
            per_fold = fit_seconds / len(folds)
            if time.monotonic() + per_fold > deadline:
                return CVRun(folds, fit_seconds, True, oof)
        pipeline = build_pipeline(specs, build_model(name, task, data.seed))
        if params:
            pipeline.set_params(**{f"model__{key}": value for key, value in params.items()})
        started = time.perf_counter()
        pipeline.fit(x.iloc[train_idx], y[train_idx])
        fit_seconds += time.perf_counter() - started
        scores, y_pred, _ = evaluate(task, pipeline, x.iloc[test_idx], y[test_idx])
        if oof is not None:
            oof[test_idx] = y_pred
        folds.append(scores)
        if clock is not None:
            clock.tick(f"{label or name}: fold {index}/{len(splits)}")
    return CVRun(folds, fit_seconds, False, oof)


def _dummy(task: Task) -> Any:
    from sklearn.dummy import DummyClassifier, DummyRegressor

    if task == "regression":
        return DummyRegressor(strategy="mean")
    # "prior": predicts the majority class and the class shares as probabilities, so log loss
    # and ROC AUC (0.5) of the baseline are defined too.
    return DummyClassifier(strategy="prior")


def baseline_scores(
    task: Task,
    y_train: np.ndarray[Any, Any],
    splits: Splits,
    y_hold: np.ndarray[Any, Any],
) -> dict[str, Any]:
    """The majority-class / mean predictor on the same folds and holdout as the models.

    It ignores the features, so it is fitted on a placeholder column (no preprocessing cost)."""
    started = time.perf_counter()
    folds = []
    for train_idx, test_idx in splits:
        dummy = _dummy(task).fit(np.zeros((len(train_idx), 1)), y_train[train_idx])
        scores, _, _ = evaluate(task, dummy, np.zeros((len(test_idx), 1)), y_train[test_idx])
        folds.append(scores)
    final = _dummy(task).fit(np.zeros((len(y_train), 1)), y_train)
    holdout, _, _ = evaluate(task, final, np.zeros((len(y_hold), 1)), y_hold)
    predicts: dict[str, Any]
    if task == "regression":
        predicts = {"mean": float(np.mean(y_train))}
    else:
        labels, counts = np.unique(y_train, return_counts=True)
        top = int(np.argmax(counts))
        predicts = {"class": str(labels[top]), "share": float(counts[top] / counts.sum())}
    return {
        "strategy": BASELINE_STRATEGY[task],
        "predicts": predicts,
        "cv": summarise(folds),
        "holdout": holdout,
        "fit_seconds": time.perf_counter() - started,
    }


def compare_to_baseline(
    model_folds: list[float], baseline_folds: list[float], metric: str
) -> dict[str, Any]:
    """Paired fold-by-fold difference (model minus baseline, signed so that positive is better).

    ``verdict``: "better" when the mean difference clears one-sided t at 95% over the folds
    (folds share training rows, so this is a screen, not an exact test), "within_noise" when it
    is positive but does not, "not_better" when it is zero or negative."""
    from scipy import stats

    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
    diffs = [sign * (m - b) for m, b in zip(model_folds, baseline_folds, strict=True)]
    mean = float(np.mean(diffs))
    k = len(diffs)
    se = float(np.std(diffs, ddof=1) / math.sqrt(k)) if k > 1 else 0.0
    margin = float(stats.t.ppf(0.95, k - 1)) * se if k > 1 else 0.0
    if mean <= 0.0:
        verdict = "not_better"
    elif mean > margin:
        verdict = "better"
    else:
        verdict = "within_noise"
    return {"verdict": verdict, "difference": mean, "se": se, "margin": margin, "folds": k}
