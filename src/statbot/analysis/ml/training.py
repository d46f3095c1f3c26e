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

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from statbot.analysis.ml.cv import (
    BASELINE,
    CVData,
    CVRun,
    baseline_scores,
    compare_to_baseline,
    cross_validate,
)
from statbot.analysis.ml.estimators import build_model, model_label, resolve_model_name
from statbot.analysis.ml.inputs import (
    HOLDOUT_FRACTION,
    auto_candidates,
    check_class_counts,
    labelled_rows,
    splitter,
)
from statbot.analysis.ml.intervals import calibrate
from statbot.analysis.ml.metrics import LOWER_IS_BETTER, PRIMARY_METRIC, evaluate, summarise
from statbot.analysis.ml.pipeline import (
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
from statbot.analysis.ml.tuning import DEFAULT_TUNE_BUDGET_S, MAX_TRIALS
from statbot.analysis.ml.tuning import tune as tune_search

__all__ = [
    "FeatureImportance",
    "LeaderboardEntry",
    "TrainResult",
    "detect_task",
    "resolve_model_name",
    "train",
]

log = logging.getLogger(__name__)

DEFAULT_TIME_BUDGET_S = 120.0
SMALL_DATA_ROWS = 20_000


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
    tune: bool = False,
    tune_budget_s: float = DEFAULT_TUNE_BUDGET_S,
) -> TrainResult:
    """Train ``model`` (a name or alias; "auto" compares several) to predict ``target``.

    ``features`` defaults to every other column. ``time_budget_s`` bounds the `auto` search
    (the first candidate always completes); ``tune`` then searches the chosen model's
    hyper-parameters for at most ``tune_budget_s`` seconds. Raises ModelError with a user
    message on bad input.
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
            tune_budget_s=tune_budget_s if tune else None,
        )
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        result.warnings.append(
            f"The {model_label(result.model_name)} model (or a candidate compared with it) did "
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
    tune_budget_s: float | None,
) -> TrainResult:
    started = time.perf_counter()
    notes: list[str] = []
    labelled, features = labelled_rows(frame, target, features, cv, notes)
    task = detect_task(labelled[target])
    requested = resolve_model_name(model)
    if requested != "auto":
        build_model(requested, task, seed)  # fails early with a user message if unsuitable
    specs = feature_specs(labelled, features)
    x = prepare_features(labelled, specs).reset_index(drop=True)
    y = prepare_target(labelled[target], task)
    if task != "regression":
        check_class_counts(y, cv)
    stratify = y if task != "regression" else None
    train_idx, hold_idx = train_test_split(
        np.arange(len(x)), test_size=HOLDOUT_FRACTION, random_state=seed, stratify=stratify
    )
    x_train, y_train = x.iloc[train_idx], y[train_idx]
    x_hold, y_hold = x.iloc[hold_idx], y[hold_idx]
    folds_of = splitter(task, cv, seed)
    splits = list(folds_of.split(x_train, y_train))
    metric = PRIMARY_METRIC[task]
    data = CVData(task, specs, x_train, y_train, splits, seed)

    candidates = [requested] if requested != "auto" else auto_candidates(task, len(x_train))
    # units: cv folds per candidate, tuning settings, the final fit, the importance pass
    tune_units = MAX_TRIALS if tune_budget_s is not None else 0
    clock = ProgressClock(progress, len(candidates) * cv + tune_units + 2)
    clock.report(0.0, f"{task} task, {len(x)} rows, {len(features)} features")
    deadline = time.monotonic() + time_budget_s if requested == "auto" else None
    board: list[LeaderboardEntry] = []
    runs: dict[str, CVRun] = {}
    for position, name in enumerate(candidates):
        label = model_label(name)
        if deadline is not None and position > 0 and time.monotonic() >= deadline:
            board.append(LeaderboardEntry(name, metric, None, None, 0.0, "skipped: time budget"))
            clock.tick(f"{label}: skipped (time budget)", cv)
            continue
        run = cross_validate(
            name=name,
            data=data,
            clock=clock,
            deadline=deadline if position > 0 else None,
            label=label,
        )
        if run.cut:
            clock.tick(f"{label}: stopped (time budget)", cv - len(run.folds))
            board.append(
                LeaderboardEntry(name, metric, None, None, run.fit_seconds, "stopped: time budget")
            )
            continue
        runs[name] = run
        summary = summarise(run.folds)[metric]
        board.append(
            LeaderboardEntry(name, metric, summary["mean"], summary["std"], run.fit_seconds)
        )
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
    board.sort(key=lambda e: (e.mean is None, -sign * (e.mean if e.mean is not None else 0.0)))
    best = board[0].model
    if len(candidates) > 1:
        log.info("auto picked %s (%s=%.4f)", best, metric, board[0].mean)

    chosen, params, tuning = runs[best], None, None
    if tune_budget_s is not None:
        tuning, tuned_run, params = tune_search(
            name=best,
            data=data,
            metric=metric,
            untuned=chosen,
            budget_s=tune_budget_s,
            clock=clock,
            label=model_label(best),
        )
        if tuned_run is not None:
            chosen = tuned_run
            tuned = summarise(tuned_run.folds)[metric]
            board.append(
                LeaderboardEntry(
                    best, metric, tuned["mean"], tuned["std"], tuned_run.fit_seconds, "tuned"
                )
            )
        clock.tick("tuning done", max(0, tune_units - tuning["tried"]))

    baseline = baseline_scores(task, y_train, splits, y_hold)
    base_cv = baseline["cv"][metric]
    baseline["comparison"] = compare_to_baseline(
        [fold[metric] for fold in chosen.folds], base_cv["folds"], metric
    )
    board.append(
        LeaderboardEntry(
            BASELINE, metric, base_cv["mean"], base_cv["std"], baseline["fit_seconds"], "baseline"
        )
    )
    board.sort(key=lambda e: (e.mean is None, -sign * (e.mean if e.mean is not None else 0.0)))

    pipeline = build_pipeline(specs, build_model(best, task, seed))
    if params:
        pipeline.set_params(**{f"model__{key}": value for key, value in params.items()})
    pipeline.fit(x_train, y_train)
    clock.tick(f"{model_label(best)}: fitted on {len(x_train)} rows")
    holdout, hold_pred, hold_proba = evaluate(task, pipeline, x_hold, y_hold)
    intervals = None
    if task == "regression" and chosen.oof is not None:
        intervals = calibrate(y_train, chosen.oof, y_hold, hold_pred, folds=cv)
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
        cv=summarise(chosen.folds),
        holdout=holdout,
        leaderboard=board,
        importances=importances,
        cv_scheme={
            "type": type(folds_of).__name__,
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
        baseline=baseline,
        intervals=intervals,
        tuning=tuning,
    )
