"""Leaderboard: statbot's ``auto`` vs a PyCaret-style ``compare_models`` of the same model set.

Four data sets that scikit-learn ships (breast_cancer: binary, wine and digits: multiclass,
diabetes: regression). Both sides get the same rows, the same 20% holdout, the same k folds on
the training part and the same candidates with the same settings (issue 11):

- baseline: a plain scikit-learn loop in the way PyCaret's ``compare_models`` works: for every
  candidate, and for the dummy model PyCaret lists too, ``cross_validate`` of
  ``impute → scale → model`` with one scorer per reported metric (accuracy, balanced accuracy,
  F1, ROC AUC, log loss; R², RMSE, MAE), the best by the primary metric fitted on the training
  part and scored on the holdout with the same metrics.
- statbot: ``statbot.analysis.ml.training.train(frame, "target", model="auto", cv=k)``, which on
  top of that scores the baseline on the same folds and holdout, computes permutation
  importance on the holdout, a regressor's prediction intervals, and hashes the data.

``statbot_s`` and ``baseline_s`` are process CPU seconds summed over the four data sets (the
median of ``--repeats`` interleaved runs), under the same OpenMP/BLAS thread limit
(``--threads``, default 1), as in ``train_overhead.py``: wall time on this shared machine swings
more than the difference measured. Prints one JSON line: ``statbot_s``, ``baseline_s``,
``ratio`` (statbot_s / baseline_s), ``target_met`` (ratio ≤ 1.0 at an equal or better CV score
on every data set), and per data set both sides' chosen model and CV score.

    .venv/bin/python benchmarks/leaderboard.py [--cv 5] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from typing import Any

import numpy as np
import pandas as pd
from measure import machine, thread_limit, timed

DATASETS = ("breast_cancer", "wine", "digits", "diabetes")
SCORERS = {
    "binary": {
        "accuracy": "accuracy",
        "balanced_accuracy": "balanced_accuracy",
        "f1": "f1",
        "roc_auc": "roc_auc",
        "log_loss": "neg_log_loss",
    },
    "multiclass": {
        "accuracy": "accuracy",
        "balanced_accuracy": "balanced_accuracy",
        "f1_macro": "f1_macro",
        "roc_auc_ovr": "roc_auc_ovr",
        "log_loss": "neg_log_loss",
    },
    "regression": {
        "r2": "r2",
        "rmse": "neg_root_mean_squared_error",
        "mae": "neg_mean_absolute_error",
    },
}


def load(name: str) -> pd.DataFrame:
    from sklearn import datasets

    frame: pd.DataFrame = getattr(datasets, f"load_{name}")(as_frame=True).frame
    return frame


def task_of(name: str) -> str:
    return {"breast_cancer": "binary", "diabetes": "regression"}.get(name, "multiclass")


def baseline_run(frame: pd.DataFrame, task: str, cv: int, seed: int) -> tuple[str, float]:
    """The PyCaret-style compare; the chosen model and its mean CV primary score."""
    from sklearn.dummy import DummyClassifier, DummyRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.model_selection import KFold, StratifiedKFold, cross_validate, train_test_split
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from statbot.analysis.ml.estimators import build_model
    from statbot.analysis.ml.inputs import auto_candidates

    x = frame.drop(columns="target")
    y = frame["target"].to_numpy()  # the integer labels: the scorers' pos_label is 1
    x_train, x_hold, y_train, y_hold = train_test_split(
        x, y, test_size=0.2, random_state=seed, stratify=None if task == "regression" else y
    )
    splitter = (
        KFold(cv, shuffle=True, random_state=seed)
        if task == "regression"
        else StratifiedKFold(cv, shuffle=True, random_state=seed)
    )
    scoring = SCORERS[task]
    primary = "r2" if task == "regression" else "accuracy"
    models: dict[str, Any] = {
        name: build_model(name, task, seed)  # type: ignore[arg-type]
        for name in auto_candidates(task, len(x_train))  # type: ignore[arg-type]
    }
    models["dummy"] = DummyRegressor() if task == "regression" else DummyClassifier()
    results: dict[str, float] = {}
    for name, model in models.items():
        pipeline = Pipeline(
            [
                ("impute", SimpleImputer(strategy="median")),
                ("scale", StandardScaler()),
                ("model", model),
            ]
        )
        scores = cross_validate(pipeline, x_train, y_train, cv=splitter, scoring=scoring)
        results[name] = float(np.mean(scores[f"test_{primary}"]))
    best = max((n for n in results if n != "dummy"), key=lambda n: results[n])
    final = Pipeline(
        [
            ("impute", SimpleImputer(strategy="median")),
            ("scale", StandardScaler()),
            ("model", build_model(best, task, seed)),  # type: ignore[arg-type]
        ]
    ).fit(x_train, y_train)
    from sklearn.metrics import get_scorer

    for scorer in scoring.values():
        get_scorer(scorer)(final, x_hold, y_hold)
    return best, results[best]


def statbot_run(frame: pd.DataFrame, task: str, cv: int, seed: int) -> tuple[str, float]:
    from statbot.analysis.ml.training import train

    result = train(frame, "target", model="auto", cv=cv, seed=seed)
    return result.model_name, float(result.cv[result.primary_metric]["mean"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cv", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="0 = library default")
    parser.add_argument("--datasets", default=",".join(DATASETS))
    args = parser.parse_args(argv)
    # A warm-up of each side on a small set keeps lazy imports out of the timed runs.
    names = [n.strip() for n in args.datasets.split(",") if n.strip()]
    frames = {name: load(name) for name in names}
    with thread_limit(args.threads):
        warm = load("iris")
        baseline_run(warm, "multiclass", 2, args.seed)
        statbot_run(warm, "multiclass", 2, args.seed)
        return _compare(args, frames)


def _compare(args: argparse.Namespace, frames: dict[str, pd.DataFrame]) -> int:
    statbot_totals, baseline_totals = [], []
    per_set: dict[str, dict[str, Any]] = {}
    for _ in range(args.repeats):
        statbot_total = baseline_total = 0.0
        for name, frame in frames.items():
            task = task_of(name)
            base_cpu, _, (base_model, base_score) = timed(
                baseline_run, frame, task, args.cv, args.seed
            )
            bot_cpu, _, (bot_model, bot_score) = timed(statbot_run, frame, task, args.cv, args.seed)
            baseline_total += base_cpu
            statbot_total += bot_cpu
            entry = per_set.setdefault(
                name,
                {
                    "task": task,
                    "rows": len(frame),
                    "statbot_model": bot_model,
                    "baseline_model": base_model,
                    "statbot_cv": bot_score,
                    "baseline_cv": base_score,
                    "statbot_runs_s": [],
                    "baseline_runs_s": [],
                },
            )
            entry["statbot_runs_s"].append(round(bot_cpu, 3))
            entry["baseline_runs_s"].append(round(base_cpu, 3))
        statbot_totals.append(statbot_total)
        baseline_totals.append(baseline_total)
    statbot_s = statistics.median(statbot_totals)
    baseline_s = statistics.median(baseline_totals)
    # equal within float noise: both sides score the same folds with the same models
    scores_ok = all(e["statbot_cv"] >= e["baseline_cv"] - 1e-9 for e in per_set.values())
    print(
        json.dumps(
            {
                "benchmark": "leaderboard",
                "cv": args.cv,
                "repeats": args.repeats,
                "threads": args.threads or "default",
                "statbot_s": round(statbot_s, 3),
                "baseline_s": round(baseline_s, 3),
                "ratio": round(statbot_s / baseline_s, 4),
                "scores_equal_or_better": scores_ok,
                "target_met": statbot_s <= baseline_s and scores_ok,
                "datasets": per_set,
                "clock": "process CPU seconds",
                "statbot_runs_s": [round(t, 3) for t in statbot_totals],
                "baseline_runs_s": [round(t, 3) for t in baseline_totals],
                "machine": machine(),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
