"""Training overhead: statbot's ``train`` vs the bare scikit-learn pipeline doing the same work.

Both sides get the same generated 100k-row frame (numeric + categorical columns with missing
values), the same model, the same holdout split and the same k folds (issue #3):

- sklearn: ``ColumnTransformer(impute+scale | impute+one-hot) → model``; ``cross_validate`` on
  the training part with one scorer, then ``fit`` on the training part and score the holdout.
- statbot: ``statbot.analysis.ml.training.train(frame, target, model=..., cv=...)``, which on top of
  that detects the task, coerces columns, scores five metrics per fold, computes permutation
  importance on the holdout and hashes the data.

Runs are interleaved (sklearn, statbot, sklearn, ...) and the median of ``--repeats`` is kept.
Both sides run under the same OpenMP/BLAS thread limit (``--threads``, default 1), and
``statbot_s`` / ``sklearn_s`` are the process's CPU seconds (``time.process_time``): on a shared,
busy machine wall time of identical work swung from 146 s to 363 s between runs, which would
swamp the overhead being measured, while single-threaded CPU time is the work itself (on an idle
machine it equals wall time). Wall times are reported too (``*_wall_s``).
Prints one JSON line: ``statbot_s``, ``sklearn_s``, ``overhead_ratio`` (statbot_s / sklearn_s),
``overhead_s`` and ``target_met`` for the target statbot_s ≤ 1.10 × sklearn_s + 0.5 s.

    .venv/bin/python benchmarks/train_overhead.py [--rows 100000] [--model hist_gradient_boosting]
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


def make_frame(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data: dict[str, Any] = {f"x{i}": rng.normal(size=rows) for i in range(8)}
    data["region"] = rng.choice(["north", "south", "east", "west", "centre"], rows)
    data["plan"] = rng.choice(["basic", "plus", "pro"], rows, p=[0.6, 0.3, 0.1])
    frame = pd.DataFrame(data)
    frame["x0"] = frame["x0"].mask(rng.random(rows) < 0.05)
    frame["region"] = frame["region"].mask(rng.random(rows) < 0.02)
    logit = (
        1.2 * frame["x0"].fillna(0)
        - 0.8 * frame["x1"]
        + 0.5 * frame["x2"] * frame["x3"]
        + (frame["plan"] == "pro") * 1.0
        - (frame["region"] == "south") * 0.7
    )
    frame["churn"] = np.where(rng.random(rows) < 1 / (1 + np.exp(-logit)), "yes", "no")
    return frame


def sklearn_run(frame: pd.DataFrame, model: str, cv: int, seed: int) -> float:
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.model_selection import StratifiedKFold, cross_validate, train_test_split
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from statbot.analysis.ml.estimators import build_model

    numeric = [c for c in frame.columns if c.startswith("x")]
    categorical = ["region", "plan"]
    x = frame[numeric + categorical]
    y = frame["churn"].to_numpy(dtype=object)
    pre = ColumnTransformer(
        [
            (
                "numeric",
                Pipeline(
                    [("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]
                ),
                numeric,
            ),
            (
                "categorical",
                Pipeline(
                    [
                        ("impute", SimpleImputer(strategy="constant", fill_value="(missing)")),
                        ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
                    ]
                ),
                categorical,
            ),
        ]
    )
    pipeline = Pipeline([("preprocess", pre), ("model", build_model(model, "binary", seed))])
    x_train, x_hold, y_train, y_hold = train_test_split(
        x, y, test_size=0.2, random_state=seed, stratify=y
    )
    splitter = StratifiedKFold(n_splits=cv, shuffle=True, random_state=seed)
    scores = cross_validate(pipeline, x_train, y_train, cv=splitter, scoring="accuracy")
    pipeline.fit(x_train, y_train)
    pipeline.score(x_hold, y_hold)
    return float(np.mean(scores["test_score"]))


def statbot_run(frame: pd.DataFrame, model: str, cv: int, seed: int) -> float:
    from statbot.analysis.ml.training import train

    result = train(frame, "churn", model=model, cv=cv, seed=seed)
    return float(result.cv["accuracy"]["mean"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--model", default="hist_gradient_boosting")
    parser.add_argument("--cv", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="0 = library default")
    args = parser.parse_args(argv)
    # A small warm-up run of each side keeps lazy imports out of the timed runs.
    with thread_limit(args.threads):
        warm = make_frame(600, args.seed + 1)
        sklearn_run(warm, args.model, 2, args.seed)
        statbot_run(warm, args.model, 2, args.seed)
        return _compare(args)


def _compare(args: argparse.Namespace) -> int:
    frame = make_frame(args.rows, args.seed)
    statbot_times, sklearn_times, statbot_wall, sklearn_wall = [], [], [], []
    statbot_score = sklearn_score = float("nan")
    for _ in range(args.repeats):
        cpu, wall, sklearn_score = timed(sklearn_run, frame, args.model, args.cv, args.seed)
        sklearn_times.append(cpu)
        sklearn_wall.append(wall)
        cpu, wall, statbot_score = timed(statbot_run, frame, args.model, args.cv, args.seed)
        statbot_times.append(cpu)
        statbot_wall.append(wall)
    statbot_s = statistics.median(statbot_times)
    sklearn_s = statistics.median(sklearn_times)
    print(
        json.dumps(
            {
                "benchmark": "train_overhead",
                "rows": args.rows,
                "model": args.model,
                "cv": args.cv,
                "repeats": args.repeats,
                "threads": args.threads or "default",
                "statbot_s": round(statbot_s, 3),
                "sklearn_s": round(sklearn_s, 3),
                "overhead_ratio": round(statbot_s / sklearn_s, 4),
                "overhead_s": round(statbot_s - sklearn_s, 3),
                "target_met": statbot_s <= 1.10 * sklearn_s + 0.5,
                "statbot_cv_accuracy": statbot_score,
                "sklearn_cv_accuracy": sklearn_score,
                "clock": "process CPU seconds",
                "statbot_runs_s": [round(t, 3) for t in statbot_times],
                "sklearn_runs_s": [round(t, 3) for t in sklearn_times],
                "statbot_wall_s": [round(t, 3) for t in statbot_wall],
                "sklearn_wall_s": [round(t, 3) for t in sklearn_wall],
                "machine": machine(),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
