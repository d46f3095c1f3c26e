"""Train a model on a frame: task detection, k-fold CV, a holdout, `auto` model search and
permutation importance, reported through a progress callback (issue #3).

Scheme (recorded on the card as ``cv_scheme``): the rows with a target are split once into a
training part and a holdout (``HOLDOUT_FRACTION``, stratified for classes). k-fold CV
(StratifiedKFold for classes, shuffled with ``seed``) runs on the training part; the returned
``TrainResult.estimator`` is the pipeline fitted on the **training part only**, so its holdout
metrics are an honest estimate of how the saved model does on new rows.

    from statbot.analysis.ml.training import train
    result = train(frame, "price", model="auto", cv=5, progress=lambda f, msg: ...)
"""

from __future__ import annotations

import logging
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

from statbot.analysis.ml.catalog import (
    AUTO_CANDIDATES,
    MODELS,
    SVM_AUTO_MAX_ROWS,
    build_model,
    resolve_model_name,
)
from statbot.analysis.ml.metrics import LOWER_IS_BETTER, PRIMARY_METRIC, evaluate, summarise
from statbot.analysis.ml.pipeline import (
    FeatureSpec,
    Task,
    build_pipeline,
    detect_task,
    feature_specs,
    prepare_features,
    prepare_target,
)
from statbot.analysis.ml.result import (
    FeatureImportance,
    LeaderboardEntry,
    Progress,
    ProgressClock,
    TrainResult,
    data_hash,
    permutation_importances,
)
from statbot.errors import ModelError

__all__ = [
    "FeatureImportance",
    "LeaderboardEntry",
    "TrainResult",
    "detect_task",
    "resolve_model_name",
    "train",
]

log = logging.getLogger(__name__)

HOLDOUT_FRACTION = 0.2
MIN_ROWS = 10
DEFAULT_TIME_BUDGET_S = 120.0
SMALL_DATA_ROWS = 20_000


def _splitter(task: Task, cv: int, seed: int) -> KFold | StratifiedKFold:
    if task == "regression":
        return KFold(n_splits=cv, shuffle=True, random_state=seed)
    return StratifiedKFold(n_splits=cv, shuffle=True, random_state=seed)


def _check_inputs(frame: pd.DataFrame, target: str, features: list[str], cv: int) -> None:
    missing = [c for c in [target, *features] if c not in frame.columns]
    if missing:
        raise ModelError(
            f"columns not found: {missing}",
            user_message=f"These columns are not in the data: {', '.join(missing)}.",
        )
    if target in features:
        raise ModelError(
            "target among features",
            user_message=f"'{target}' is the target, so it cannot also be a feature.",
        )
    if not features:
        raise ModelError("no features", user_message="Choose at least one feature column.")
    if cv < 2:
        raise ModelError("cv < 2", user_message="Cross-validation needs at least 2 folds.")


def _check_class_counts(y: np.ndarray[Any, Any], cv: int) -> None:
    labels, counts = np.unique(y, return_counts=True)
    smallest = int(counts.min())
    # Stratified holdout needs 2 rows of a class, and CV on the rest needs `cv` more.
    if smallest < cv + 2:
        label = labels[int(np.argmin(counts))]
        raise ModelError(
            f"class {label!r} has {smallest} rows, needs {cv + 2}",
            user_message=(
                f"The class '{label}' has only {smallest} rows; with {cv}-fold cross-validation "
                f"and a holdout each class needs at least {cv + 2}. Use fewer folds or more data."
            ),
        )


def _cross_validate(
    *,
    name: str,
    task: Task,
    specs: list[FeatureSpec],
    x: pd.DataFrame,
    y: np.ndarray[Any, Any],
    splits: list[tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]],
    seed: int,
    clock: ProgressClock,
    deadline: float | None,
) -> tuple[list[dict[str, float]], float, bool]:
    """Fold metrics, total fit seconds, and whether the deadline cut the run short."""
    folds: list[dict[str, float]] = []
    fit_seconds = 0.0
    for index, (train_idx, test_idx) in enumerate(splits, start=1):
        if deadline is not None and folds:
            per_fold = fit_seconds / len(folds)
            if time.monotonic() + per_fold > deadline:
                return folds, fit_seconds, True
        pipeline = build_pipeline(specs, build_model(name, task, seed))
        started = time.perf_counter()
        pipeline.fit(x.iloc[train_idx], y[train_idx])
        fit_seconds += time.perf_counter() - started
        scores, _, _ = evaluate(task, pipeline, x.iloc[test_idx], y[test_idx])
        folds.append(scores)
        clock.tick(f"{MODELS[name].label}: fold {index}/{len(splits)}")
    return folds, fit_seconds, False


def train(
    frame: pd.DataFrame,
    target: str,
    features: list[str] | None = None,
    *,
    model: str = "auto",
    cv: int = 5,
    seed: int = 0,
    progress: Progress | None = None,
    time_budget_s: float = DEFAULT_TIME_BUDGET_S,
) -> TrainResult:
    """Train ``model`` (a name or alias; "auto" compares several) to predict ``target``.

    ``features`` defaults to every other column. ``time_budget_s`` bounds the `auto` search
    (the first candidate always completes). Raises ModelError with a user message on bad input.
    """
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    # On small data, OpenMP/BLAS thread start-up and spin-waiting cost more than they save
    # (HistGradientBoosting on 150 rows: 0.1 s on one thread, >3 s on a busy 2-core machine).
    threads = 1 if len(frame) < SMALL_DATA_ROWS else None
    with warnings.catch_warnings(record=True) as caught, threadpool_limits(limits=threads):
        # Convergence trouble (lasso, logistic on unscaled extremes) is told to the user, not
        # raised or logged only; everything else keeps the caller's warning filters.
        warnings.simplefilter("always", ConvergenceWarning)
        result = _train(
            frame,
            target,
            features,
            model=model,
            cv=cv,
            seed=seed,
            progress=progress,
            time_budget_s=time_budget_s,
        )
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        result.warnings.append(
            f"The {MODELS[result.model_name].label} model (or a candidate compared with it) did "
            "not fully converge; its scores may be a little lower than possible."
        )
    for w in caught:
        if not issubclass(w.category, ConvergenceWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return result


def _train(
    frame: pd.DataFrame,
    target: str,
    features: list[str] | None,
    *,
    model: str,
    cv: int,
    seed: int,
    progress: Progress | None,
    time_budget_s: float,
) -> TrainResult:
    started = time.perf_counter()
    features = [c for c in frame.columns if c != target] if features is None else features
    features = list(dict.fromkeys(features))  # a column named twice is used once
    _check_inputs(frame, target, features, cv)
    notes: list[str] = []
    labelled = frame.loc[frame[target].notna(), [*features, target]]
    dropped = len(frame) - len(labelled)
    if dropped:
        notes.append(f"{dropped} rows without a value in '{target}' were left out.")
    empty = [c for c in features if labelled[c].isna().all()]
    if empty:
        features = [c for c in features if c not in empty]
        notes.append(
            f"Column{'s' if len(empty) > 1 else ''} {', '.join(repr(c) for c in empty)} "
            f"had no values and {'were' if len(empty) > 1 else 'was'} left out."
        )
        if not features:
            raise ModelError(
                "all features empty", user_message="None of the chosen columns has any values."
            )
        labelled = labelled[[*features, target]]
    task = detect_task(labelled[target])
    requested = resolve_model_name(model)
    if requested != "auto":
        build_model(requested, task, seed)  # fails early with a user message if unsuitable
    if len(labelled) < MIN_ROWS or len(labelled) * (1 - HOLDOUT_FRACTION) < cv:
        raise ModelError(
            f"too few rows: {len(labelled)}",
            user_message=(
                f"Only {len(labelled)} rows have a target value; training with {cv}-fold "
                f"cross-validation and a holdout needs at least {max(MIN_ROWS, 2 * cv)}."
            ),
        )
    specs = feature_specs(labelled, features)
    x = prepare_features(labelled, specs).reset_index(drop=True)
    y = prepare_target(labelled[target], task)
    if task != "regression":
        _check_class_counts(y, cv)
    stratify = y if task != "regression" else None
    train_idx, hold_idx = train_test_split(
        np.arange(len(x)), test_size=HOLDOUT_FRACTION, random_state=seed, stratify=stratify
    )
    x_train, y_train = x.iloc[train_idx], y[train_idx]
    x_hold, y_hold = x.iloc[hold_idx], y[hold_idx]
    splitter = _splitter(task, cv, seed)
    splits = list(splitter.split(x_train, y_train))
    metric = PRIMARY_METRIC[task]

    candidates = [requested] if requested != "auto" else _auto_candidates(task, len(x_train))
    # units: cv folds per candidate, the final fit, the importance pass
    clock = ProgressClock(progress, len(candidates) * cv + 2)
    clock.report(0.0, f"{task} task, {len(x)} rows, {len(features)} features")
    deadline = time.monotonic() + time_budget_s if requested == "auto" else None
    board: list[LeaderboardEntry] = []
    fold_results: dict[str, list[dict[str, float]]] = {}
    for position, name in enumerate(candidates):
        if deadline is not None and position > 0 and time.monotonic() >= deadline:
            board.append(LeaderboardEntry(name, metric, None, None, 0.0, "skipped: time budget"))
            clock.tick(f"{MODELS[name].label}: skipped (time budget)", cv)
            continue
        folds, fit_s, cut = _cross_validate(
            name=name,
            task=task,
            specs=specs,
            x=x_train,
            y=y_train,
            splits=splits,
            seed=seed,
            clock=clock,
            deadline=deadline if position > 0 else None,
        )
        if cut:
            clock.tick(f"{MODELS[name].label}: stopped (time budget)", cv - len(folds))
            board.append(LeaderboardEntry(name, metric, None, None, fit_s, "stopped: time budget"))
            continue
        fold_results[name] = folds
        summary = summarise(folds)[metric]
        board.append(LeaderboardEntry(name, metric, summary["mean"], summary["std"], fit_s))
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
    board.sort(key=lambda e: (e.mean is None, -sign * (e.mean if e.mean is not None else 0.0)))
    best = board[0].model
    if len(candidates) > 1:
        log.info("auto picked %s (%s=%.4f)", best, metric, board[0].mean)

    pipeline = build_pipeline(specs, build_model(best, task, seed))
    pipeline.fit(x_train, y_train)
    clock.tick(f"{MODELS[best].label}: fitted on {len(x_train)} rows")
    holdout, hold_pred, hold_proba = evaluate(task, pipeline, x_hold, y_hold)
    importances = permutation_importances(pipeline, x_hold, y_hold, metric=metric, seed=seed)
    clock.tick("feature importance done")
    clock.report(1.0, "done")
    classes = [str(c) for c in pipeline.classes_] if task != "regression" else []
    return TrainResult(
        task=task,
        model_name=best,
        estimator=pipeline,
        target=target,
        features=specs,
        classes=classes,
        primary_metric=metric,
        cv=summarise(fold_results[best]),
        holdout=holdout,
        leaderboard=board,
        importances=importances,
        cv_scheme={
            "type": type(splitter).__name__,
            "n_splits": cv,
            "folds": cv,  # same number; the name workflows/report.py reads
            "shuffle": True,
            "holdout_fraction": HOLDOUT_FRACTION,
            "stratified": task != "regression",
            "fitted_on": "training part (holdout excluded)",
        },
        seed=seed,
        data_hash=data_hash(labelled),
        n_rows=len(x),
        n_train=len(x_train),
        n_holdout=len(x_hold),
        fit_seconds=time.perf_counter() - started,
        holdout_true=y_hold,
        holdout_pred=hold_pred,
        holdout_proba=hold_proba,
        warnings=notes,
    )


def _auto_candidates(task: Task, n_rows: int) -> list[str]:
    names = list(AUTO_CANDIDATES[task])
    if n_rows > SVM_AUTO_MAX_ROWS and "svm" in names:
        names.remove("svm")
    return names
