"""When the data given to /predict holds the target column, the predictions are scored against it
(issue 11): the task's metrics, a confusion matrix for classes, and for regressors how often the
prediction intervals held. The sentences of a prediction (chat and ``statbot analyze predict``
alike) are generated here from those numbers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from statbot.analysis.ml.card import ModelCard
from statbot.analysis.ml.metrics import classification_metrics, regression_metrics
from statbot.analysis.ml.pipeline import Task, prepare_target
from statbot.analysis.ml.wording import metric_label, num

MIN_SCORED = 2  # R², ROC AUC and friends need at least two rows (and two values)


def target_column(frame: pd.DataFrame, card: ModelCard) -> Any | None:
    """The input column holding the model's target (same name, or differing in case/spaces)."""
    if card.target in frame.columns:
        return card.target
    loose = card.target.strip().lower()
    for column in frame.columns:
        if str(column).strip().lower() == loose and column not in card.feature_names:
            return column
    return None


def score_predictions(
    card: ModelCard,
    actual: pd.Series,
    predicted: np.ndarray[Any, Any],
    proba: np.ndarray[Any, Any] | None,
    half_width: float | None,
) -> dict[str, Any] | None:
    """Metrics of the predictions on the rows whose target is usable; None if fewer than
    MIN_SCORED are. ``unscored`` counts the rows left out and says why."""
    task: Task = card.task  # type: ignore[assignment]
    present = actual.notna().to_numpy()
    if task == "regression":
        values = pd.to_numeric(actual, errors="coerce").to_numpy(dtype="float64")
        usable = np.isfinite(values)
        out = _unscored(len(actual), present, usable, unreadable="not a number")
        if int(usable.sum()) < MIN_SCORED:
            return None
        y, pred = values[usable], np.asarray(predicted, dtype="float64")[usable]
        out["metrics"] = regression_metrics(y, pred)
        if half_width is not None:
            inside = int(np.sum(np.abs(y - pred) <= half_width))
            out["interval_coverage"] = {"inside": inside, "n": len(y), "share": inside / len(y)}
        return out
    # the file's labels as the model's class labels (0.0 → "0", as in training)
    labels = np.full(len(actual), None, dtype=object)
    labels[present] = prepare_target(actual[present], task)
    classes = list(card.classes)
    known = present & pd.Series(labels).isin(classes).to_numpy()
    out = _unscored(len(actual), present, known, unreadable="with a class the model never saw")
    unseen = pd.unique(labels[present & ~known])[:3]
    if len(unseen):
        out["unseen_classes"] = [str(v) for v in unseen]
    if int(known.sum()) < MIN_SCORED:
        return None
    true_codes = pd.Categorical(labels[known], categories=classes).codes.astype("int64")
    pred_codes = pd.Categorical(
        [str(v) for v in np.asarray(predicted)[known]], categories=classes
    ).codes.astype("int64")
    codes = list(range(len(classes)))
    rows = proba[known] if proba is not None else None
    out["metrics"] = classification_metrics(task, true_codes, pred_codes, rows, codes)
    matrix = np.zeros((len(classes), len(classes)), dtype="int64")
    np.add.at(matrix, (true_codes, pred_codes), 1)
    out["confusion_matrix"] = {"labels": classes, "rows": "actual", "columns": "predicted"}
    out["confusion_matrix"]["matrix"] = matrix.tolist()
    return out


def _unscored(
    total: int, present: np.ndarray[Any, Any], usable: np.ndarray[Any, Any], unreadable: str
) -> dict[str, Any]:
    missing = int((~present).sum())
    other = int((present & ~usable).sum())
    return {
        "n_scored": int(usable.sum()),
        "n_rows": total,
        "unscored": {"without a value": missing, unreadable: other},
    }


def confusion_block(confusion: dict[str, Any]) -> str:
    """The confusion matrix as an aligned monospace block (rows actual, columns predicted)."""
    labels = [str(v) for v in confusion["labels"]]
    matrix = confusion["matrix"]
    head = "actual ↓ predicted →"
    width = max(len(head), *(len(v) for v in labels))
    cells = max(4, *(len(v) for v in labels), *(len(str(c)) for row in matrix for c in row))
    lines = [head.ljust(width) + "".join(f" {v:>{cells}}" for v in labels)]
    for label, row in zip(labels, matrix, strict=True):
        lines.append(label.ljust(width) + "".join(f" {c:>{cells}}" for c in row))
    return "`\n" + "\n".join(lines) + "\n`"


def prediction_lines(card: ModelCard, result: Any) -> list[str]:
    """What a person reads about a prediction run (``result`` is a PredictionResult)."""
    summary, lines = result.summary, []
    if card.task == "regression":
        lines.append(
            f"{summary['n']:,} predictions of *{card.target}*: mean {num(summary['mean'])}, "
            f"min {num(summary['min'])}, max {num(summary['max'])}."
        )
    else:
        counts = ", ".join(f"{label} {count:,}" for label, count in summary["counts"][:6])
        lines.append(f"{summary['n']:,} predictions of *{card.target}*: {counts}.")
    interval = result.interval
    if interval is not None:
        lines.append(
            f"Each has a {interval['level']:.0%} prediction interval, prediction ± "
            f"{num(interval['half_width'])} (columns {interval['lower']} and "
            f"{interval['upper']}), from {interval['method']} at training."
        )
    elif card.task == "regression":
        lines.append(
            "This model was saved without prediction intervals; train it again to get them."
        )
    lines.extend(score_lines(card, result.scores, result.target_column))
    return lines


def score_lines(card: ModelCard, scores: dict[str, Any] | None, column: Any) -> list[str]:
    if column is None:
        return []
    if scores is None:
        return [
            f"The file has a '{column}' column, but fewer than {MIN_SCORED} of its values can "
            "be compared with the predictions, so they were not scored."
        ]
    metrics = scores["metrics"]
    primary = card.primary_metric
    cv = ((card.metrics or {}).get("cv") or {}).get(primary) or {}
    shown = ", ".join(f"{metric_label(k)} {num(v)}" for k, v in metrics.items())
    lines = [
        f"Scored against the '{column}' column of this file ({scores['n_scored']:,} rows): "
        f"{shown}. At training, the cross-validated {metric_label(primary)} was "
        f"{num(cv.get('mean'))}."
    ]
    if scores.get("training_rows"):
        lines.append(
            "These are the rows the model was trained on; the scores are optimistic (it has "
            "seen these rows), the cross-validated figure is the one for new data."
        )
    coverage = scores.get("interval_coverage")
    if coverage:
        lines.append(
            f"The intervals held {coverage['inside']:,} of the {coverage['n']:,} actual values "
            f"({coverage['share']:.1%})."
        )
    unscored = {k: v for k, v in (scores.get("unscored") or {}).items() if v}
    if unscored:
        why = "; ".join(f"{v:,} {k}" for k, v in unscored.items())
        seen = scores.get("unseen_classes")
        examples = f" (e.g. {', '.join(repr(v) for v in seen)})" if seen else ""
        lines.append(f"Rows not scored: {why}{examples}.")
    confusion = scores.get("confusion_matrix")
    if confusion:
        lines.append("Confusion matrix (rows: actual, columns: predicted):")
        lines.append(confusion_block(confusion))
    return lines
