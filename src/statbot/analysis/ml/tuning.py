"""Hyper-parameter tuning, as an option: a small random search within a time budget.

Each setting is cross-validated on the *same* folds as the untuned model, so the two CV scores
compare like with like; the tuned setting is kept only when its mean CV score is higher. The
spaces are small on purpose (a handful of values of the parameters that matter most), and
every value is a plain number, string or None, so a tuned model holds the same types as an
untuned one and the skops allow-list does not change.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from statbot.analysis.ml.cv import CVData, CVRun, cross_validate
from statbot.analysis.ml.metrics import LOWER_IS_BETTER, summarise
from statbot.analysis.ml.pipeline import Task
from statbot.analysis.ml.result import ProgressClock

DEFAULT_TUNE_BUDGET_S = 60.0
MAX_TRIALS = 12

_FOREST: dict[str, list[Any]] = {
    "n_estimators": [100, 200, 400],
    "max_depth": [None, 4, 8, 16],
    "min_samples_leaf": [1, 2, 5, 10],
    "max_features": ["sqrt", 0.5, 1.0],
}
# Keys are the model step's own parameters (svm: the SVC inside the calibration wrapper).
SPACES: dict[str, dict[str, list[Any]]] = {
    "ridge": {"alpha": [0.01, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0]},
    "lasso": {"alpha": [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0]},
    "logistic": {"C": [0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0]},
    "random_forest": _FOREST,
    "extra_trees": _FOREST,
    "hist_gradient_boosting": {
        "learning_rate": [0.03, 0.06, 0.1, 0.2],
        "max_leaf_nodes": [7, 15, 31, 63],
        "min_samples_leaf": [5, 10, 20, 50],
        "l2_regularization": [0.0, 0.1, 1.0],
    },
    "knn": {"n_neighbors": [3, 5, 7, 11, 15, 25, 40], "weights": ["uniform", "distance"]},
    "svm": {"C": [0.1, 0.3, 1.0, 3.0, 10.0, 30.0], "gamma": ["scale", 0.01, 0.1, 1.0]},
}


def _trials(name: str, task: Task, seed: int) -> list[dict[str, Any]]:
    """Up to MAX_TRIALS settings drawn (seeded) from the model's space; none if it has none."""
    from sklearn.model_selection import ParameterSampler

    space = SPACES.get(name)
    if not space:
        return []
    size = int(np.prod([len(v) for v in space.values()]))
    sampled = ParameterSampler(space, n_iter=min(MAX_TRIALS, size), random_state=seed)
    # The svm classifier is SVC inside CalibratedClassifierCV (estimators._svm); SVR is bare.
    prefix = "estimator__" if name == "svm" and task != "regression" else ""
    return [{f"{prefix}{key}": value for key, value in params.items()} for params in sampled]


def tune(
    *,
    name: str,
    data: CVData,
    metric: str,
    untuned: CVRun,
    budget_s: float,
    clock: ProgressClock | None,
    label: str,
) -> tuple[dict[str, Any], CVRun | None, dict[str, Any] | None]:
    """The tuning report, the CV run of the kept setting (None: untuned kept) and its params.

    The report: ``tried`` (settings fully cross-validated), ``stopped`` (cut by the budget),
    ``budget_s``, ``seconds``, ``untuned`` and ``best`` ({mean, std} of the primary metric),
    ``params`` of the best setting, and ``kept`` ("tuned" or "untuned")."""
    started = time.monotonic()
    deadline = started + budget_s
    trials = _trials(name, data.task, data.seed)
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
    base = summarise(untuned.folds)[metric]
    best_run: CVRun | None = None
    best_params: dict[str, Any] | None = None
    best_mean = base["mean"]
    tried = stopped = 0
    for number, params in enumerate(trials, start=1):
        if time.monotonic() >= deadline:
            stopped = len(trials) - tried
            break
        run = cross_validate(name=name, data=data, clock=None, deadline=deadline, params=params)
        if clock is not None:
            clock.tick(f"{label}: tuning, setting {number}/{len(trials)}")
        if run.cut:
            stopped = len(trials) - tried
            break
        tried += 1
        mean = summarise(run.folds)[metric]["mean"]
        if sign * mean > sign * best_mean:
            best_mean, best_run, best_params = mean, run, params
    best = summarise(best_run.folds)[metric] if best_run is not None else base
    report = {
        "metric": metric,
        "space": {key: list(values) for key, values in SPACES.get(name, {}).items()},
        "tried": tried,
        "planned": len(trials),
        "stopped": stopped,
        "budget_s": budget_s,
        "seconds": time.monotonic() - started,
        "untuned": {"mean": base["mean"], "std": base["std"]},
        "best": {"mean": best["mean"], "std": best["std"]},
        "params": dict(best_params or {}),
        "kept": "tuned" if best_run is not None else "untuned",
    }
    return report, best_run, best_params
