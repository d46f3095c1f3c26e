"""The rows a training run uses: input checks with user messages, the labelled rows, the folds
and the `auto` candidates (split out of :mod:`statbot.analysis.ml.training`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold, StratifiedKFold

from statbot.analysis.ml.estimators import AUTO_CANDIDATES, SVM_AUTO_MAX_ROWS
from statbot.analysis.ml.pipeline import Task
from statbot.errors import ModelError

HOLDOUT_FRACTION = 0.2
MIN_ROWS = 10


def splitter(task: Task, cv: int, seed: int) -> KFold | StratifiedKFold:
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


def check_class_counts(y: np.ndarray[Any, Any], cv: int) -> None:
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


def labelled_rows(
    frame: pd.DataFrame, target: str, features: list[str] | None, cv: int, notes: list[str]
) -> tuple[pd.DataFrame, list[str]]:
    """The labelled rows and the usable features; what was left out goes into ``notes``."""
    features = [c for c in frame.columns if c != target] if features is None else features
    features = list(dict.fromkeys(features))  # a column named twice is used once
    _check_inputs(frame, target, features, cv)
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
    if len(labelled) < MIN_ROWS or len(labelled) * (1 - HOLDOUT_FRACTION) < cv:
        raise ModelError(
            f"too few rows: {len(labelled)}",
            user_message=(
                f"Only {len(labelled)} rows have a target value; training with {cv}-fold "
                f"cross-validation and a holdout needs at least {max(MIN_ROWS, 2 * cv)}."
            ),
        )
    return labelled, features


def auto_candidates(task: Task, n_rows: int) -> list[str]:
    names = list(AUTO_CANDIDATES[task])
    if n_rows > SVM_AUTO_MAX_ROWS and "svm" in names:
        names.remove("svm")
    return names
