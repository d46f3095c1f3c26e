"""Metrics from one set of predictions: every metric of a fold comes from a single predict /
predict_proba call, so scoring adds no model evaluations beyond what a bare CV needs."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from statbot.analysis.ml.pipeline import Task
from statbot.analysis.ml.wording import METRIC_LABELS

__all__ = [
    "LOWER_IS_BETTER",
    "METRIC_LABELS",
    "PRIMARY_METRIC",
    "classification_metrics",
    "evaluate",
    "regression_metrics",
    "summarise",
]

PRIMARY_METRIC: dict[str, str] = {
    "regression": "r2",
    "binary": "accuracy",
    "multiclass": "accuracy",
}
# For metrics where lower is better; the leaderboard sorts on the primary metric (higher better).
LOWER_IS_BETTER = frozenset({"rmse", "mae", "log_loss"})


def regression_metrics(
    y_true: np.ndarray[Any, Any], y_pred: np.ndarray[Any, Any]
) -> dict[str, float]:
    return {
        "r2": float(skm.r2_score(y_true, y_pred)),
        "rmse": float(math.sqrt(skm.mean_squared_error(y_true, y_pred))),
        "mae": float(skm.mean_absolute_error(y_true, y_pred)),
    }


def classification_metrics(
    task: Task,
    y_true: np.ndarray[Any, Any],
    y_pred: np.ndarray[Any, Any],
    proba: np.ndarray[Any, Any] | None,
    classes: list[Any],
) -> dict[str, float]:
    """accuracy, balanced accuracy, F1 (macro for multiclass), ROC AUC (ovr), log loss.

    ROC AUC is left out when the evaluated rows hold fewer than two classes (it is undefined).
    """
    result = {
        "accuracy": float(skm.accuracy_score(y_true, y_pred)),
        "balanced_accuracy": float(skm.balanced_accuracy_score(y_true, y_pred)),
    }
    present = set(np.unique(y_true).tolist())
    if task == "binary":
        result["f1"] = float(
            skm.f1_score(y_true, y_pred, pos_label=classes[1], labels=classes, zero_division=0.0)
        )
    else:
        result["f1_macro"] = float(
            skm.f1_score(y_true, y_pred, average="macro", labels=classes, zero_division=0.0)
        )
    if proba is None:
        return result
    if len(present) >= 2:
        if task == "binary":
            result["roc_auc"] = float(skm.roc_auc_score(y_true == classes[1], proba[:, 1]))
        elif len(present) == len(classes):
            result["roc_auc_ovr"] = float(
                skm.roc_auc_score(y_true, proba, multi_class="ovr", labels=classes)
            )
    result["log_loss"] = float(skm.log_loss(y_true, proba, labels=classes))
    return result


def evaluate(
    task: Task, estimator: Any, frame: Any, y_true: np.ndarray[Any, Any]
) -> tuple[dict[str, float], np.ndarray[Any, Any], np.ndarray[Any, Any] | None]:
    """Metrics of a fitted estimator on rows; also the predictions and probabilities."""
    if task == "regression":
        y_pred = np.asarray(estimator.predict(frame), dtype="float64")
        return regression_metrics(y_true, y_pred), y_pred, None
    classes = list(estimator.classes_)
    proba = np.asarray(estimator.predict_proba(frame), dtype="float64")
    # argmax of the probabilities is what predict() returns for every classifier statbot
    # trains, so one call gives both (SVC's own predict differs; ours is calibrated).
    pred_codes = np.argmax(proba, axis=1)
    y_pred = np.asarray(classes, dtype="object")[pred_codes]
    # Metrics on integer codes: sklearn's label handling on object (string) arrays costs more
    # than the model's own predict on large holdouts.
    true_codes = pd.Categorical(y_true, categories=classes).codes.astype("int64")
    codes = list(range(len(classes)))
    scores = classification_metrics(task, true_codes, pred_codes, proba, codes)
    return scores, y_pred, proba


def summarise(folds: list[dict[str, float]]) -> dict[str, dict[str, Any]]:
    """Per metric: the fold values, their mean and (population) standard deviation."""
    names = [name for name in folds[0] if all(name in fold for fold in folds)]
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        values = [fold[name] for fold in folds]
        out[name] = {
            "folds": values,
            "mean": float(np.mean(values)),
            "std": float(np.std(values)),
        }
    return out
