"""Result types of a training run (re-exported by statbot.analysis.ml.training)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from statbot.analysis.ml.pipeline import FeatureSpec, Task

Progress = Callable[[float, str], None]
# Permutation importance runs on at most this many holdout rows, n_repeats times per column:
# enough for a stable ranking, small enough to stay inside the training-overhead budget.
IMPORTANCE_MAX_ROWS = 2000
IMPORTANCE_REPEATS = 5
# Shuffled holdout copies are predicted in batches of at most this many cells (16 MB of floats).
BATCH_CELLS = 2_000_000


@dataclass(frozen=True)
class LeaderboardEntry:
    model: str
    metric: str
    mean: float | None
    std: float | None
    fit_seconds: float
    # "ok", "baseline", "tuned" (the chosen model with its tuned setting), or why the model
    # was not (fully) evaluated
    status: str = "ok"

    @property
    def label(self) -> str:
        from statbot.analysis.ml.estimators import model_label

        # the baseline's wording depends on the task, which the primary metric tells
        label = model_label(self.model, "regression" if self.metric == "r2" else "binary")
        return f"{label} (tuned)" if self.status == "tuned" else label

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "label": self.label,
            "metric": self.metric,
            "mean": self.mean,
            "std": self.std,
            "fit_seconds": self.fit_seconds,
            "status": self.status,
        }


@dataclass(frozen=True)
class FeatureImportance:
    feature: str
    mean: float
    std: float

    @property
    def evidence(self) -> bool:
        return has_evidence(self.mean, self.std)

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "mean": self.mean,
            "std": self.std,
            "evidence": self.evidence,
        }


def has_evidence(mean: float | None, std: float | None) -> bool:
    """Whether shuffling a column lowered the score by more than the shuffles' own noise
    (mean drop above twice its standard deviation over the repeats, the rule of scikit-learn's
    permutation-importance guide). Zero, negative or within-noise drops are no evidence that
    the model uses the column."""
    if mean is None:
        return False
    return mean > 0.0 and mean - 2.0 * (std or 0.0) > 0.0


@dataclass
class TrainResult:
    """Everything a chat reply, a chart, the CLI and the model card need from one training run."""

    task: Task
    model_name: str
    estimator: Any  # sklearn Pipeline fitted on the training part (not the holdout)
    target: str
    features: list[FeatureSpec]
    classes: list[str]
    primary_metric: str
    cv: dict[str, dict[str, Any]]  # metric -> {"folds": [...], "mean": m, "std": s}
    holdout: dict[str, float]
    leaderboard: list[LeaderboardEntry]
    importances: list[FeatureImportance]
    cv_scheme: dict[str, Any]
    seed: int
    data_hash: str
    n_rows: int
    n_train: int
    n_holdout: int
    fit_seconds: float
    holdout_true: np.ndarray[Any, Any] = field(repr=False)
    holdout_pred: np.ndarray[Any, Any] = field(repr=False)
    holdout_proba: np.ndarray[Any, Any] | None = field(default=None, repr=False)
    warnings: list[str] = field(default_factory=list)
    # the majority-class / mean predictor on the same folds and holdout, and how the model
    # compares (statbot.analysis.ml.cv.baseline_scores / compare_to_baseline)
    baseline: dict[str, Any] = field(default_factory=dict)
    intervals: dict[str, Any] | None = None  # regression: statbot.analysis.ml.intervals
    tuning: dict[str, Any] | None = None  # when tuned: statbot.analysis.ml.tuning report

    @property
    def model_label(self) -> str:
        from statbot.analysis.ml.estimators import model_label

        return model_label(self.model_name)

    def cv_summary(self) -> dict[str, Any]:
        """The primary metric's CV result: metric name, mean, std and per-fold values."""
        primary = self.cv[self.primary_metric]
        return {"metric": self.primary_metric, **primary}


def data_hash(frame: pd.DataFrame) -> str:
    """A content hash of the rows and columns used (sha256 over pandas' row hashes)."""
    digest = hashlib.sha256()
    digest.update("\x1f".join(map(str, frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


class ProgressClock:
    """Maps work units to a monotone 0..1 fraction for the progress callback."""

    def __init__(self, progress: Progress | None, total_units: int) -> None:
        self._progress = progress
        self._total = max(total_units, 1)
        self._done = 0
        self._last = 0.0

    def tick(self, message: str, units: int = 1) -> None:
        self._done = min(self._done + units, self._total)
        self.report(self._done / self._total, message)

    def report(self, fraction: float, message: str) -> None:
        fraction = max(self._last, min(fraction, 1.0))
        self._last = fraction
        if self._progress is not None:
            self._progress(fraction, message)


def output_groups(preprocess: Any, columns: list[str]) -> dict[str, list[int]] | None:
    """For each input column, the indices of the transformed columns it produces, or None
    when the layout cannot be derived (the caller then permutes raw columns instead).

    Every step of statbot's preprocessing is row-wise, so permuting the rows of a column's
    output block is the same as permuting the raw column and transforming again.
    """
    from statbot.analysis.ml.pipeline import DATETIME_PARTS

    groups: dict[str, list[int]] = {}
    for name, branch, names in preprocess.transformers_:
        if name == "remainder" or branch == "drop":
            continue
        block = preprocess.output_indices_[name]
        if name in ("numeric", "boolean"):
            widths = [1] * len(names)
        elif name == "datetime":
            widths = [len(DATETIME_PARTS)] * len(names)
        elif name == "categorical":
            widths = list(getattr(branch.named_steps["onehot"], "_n_features_outs", []))
        else:
            return None
        if len(widths) != len(names) or sum(widths) != block.stop - block.start:
            return None
        start = block.start
        for column, width in zip(names, widths, strict=True):
            groups[str(column)] = list(range(start, start + width))
            start += width
    return groups if set(groups) == {str(c) for c in columns} else None


def _accuracy(y_true: Any, y_pred: Any) -> float:
    """accuracy_score without its label checks (hundreds of calls on one holdout)."""
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))


def _metric_function(metric: str) -> Callable[[Any, Any], float] | None:
    from sklearn.metrics import r2_score

    return {"accuracy": _accuracy, "r2": r2_score}.get(metric)


def permutation_importances(
    pipeline: Any,
    x_hold: pd.DataFrame,
    y_hold: np.ndarray[Any, Any],
    *,
    metric: str,
    seed: int,
) -> list[FeatureImportance]:
    """Drop in ``metric`` when each input column is shuffled (any model, raw columns).

    The holdout is transformed once and the blocks of transformed columns are permuted, which
    gives the same answer as re-running the whole pipeline per shuffle at a fraction of the
    cost (issue #3: training overhead ≤ 10% over bare scikit-learn).
    """
    if len(x_hold) > IMPORTANCE_MAX_ROWS:
        rows = np.sort(
            np.random.default_rng(seed).choice(len(x_hold), IMPORTANCE_MAX_ROWS, replace=False)
        )
        x_hold, y_hold = x_hold.iloc[rows], y_hold[rows]
    columns = [str(c) for c in x_hold.columns]
    preprocess, model = pipeline.named_steps["preprocess"], pipeline.named_steps["model"]
    groups = output_groups(preprocess, columns)
    score = _metric_function(metric)
    if groups is None or score is None:
        return _sklearn_permutation(pipeline, x_hold, y_hold, metric=metric, seed=seed)
    transformed = np.array(preprocess.transform(x_hold), dtype="float64")
    baseline = score(y_hold, model.predict(transformed))
    rng = np.random.default_rng(seed)
    # Every shuffled copy is predicted in a few large batches rather than one call per
    # shuffle: a forest's predict costs per tree and per call far more than per row on a
    # holdout of a few hundred rows (issue 11's leaderboard benchmark). The permutations are
    # drawn in the same order as one at a time, so the answer is the same.
    shuffles = [
        (column, rng.permutation(len(transformed)))
        for column in columns
        for _ in range(IMPORTANCE_REPEATS)
    ]
    per_batch = max(1, BATCH_CELLS // max(transformed.size, 1))
    drops: dict[str, list[float]] = {column: [] for column in columns}
    for start in range(0, len(shuffles), per_batch):
        batch = shuffles[start : start + per_batch]
        copies = np.tile(transformed, (len(batch), 1))
        n = len(transformed)
        for offset, (column, order) in enumerate(batch):
            index = groups[column]
            copies[offset * n : (offset + 1) * n, index] = transformed[order][:, index]
        predicted = model.predict(copies)
        for offset, (column, _) in enumerate(batch):
            part = predicted[offset * n : (offset + 1) * n]
            drops[column].append(baseline - score(y_hold, part))
    items = [
        FeatureImportance(column, float(np.mean(drops[column])), float(np.std(drops[column])))
        for column in columns
    ]
    return ranked(items)


def ranked(items: list[FeatureImportance]) -> list[FeatureImportance]:
    """Columns with evidence of use first (largest drop on top), then the rest by drop."""
    return sorted(items, key=lambda item: (not item.evidence, -item.mean))


def _sklearn_permutation(
    pipeline: Any, x_hold: pd.DataFrame, y_hold: np.ndarray[Any, Any], *, metric: str, seed: int
) -> list[FeatureImportance]:
    from sklearn.inspection import permutation_importance

    found = permutation_importance(
        pipeline,
        x_hold,
        y_hold,
        scoring=metric,
        n_repeats=IMPORTANCE_REPEATS,
        random_state=seed,
    )
    items = [
        FeatureImportance(str(name), float(mean), float(std))
        for name, mean, std in zip(
            x_hold.columns, found.importances_mean, found.importances_std, strict=True
        )
    ]
    return ranked(items)
