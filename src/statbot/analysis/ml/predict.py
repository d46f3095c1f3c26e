"""Predict with a saved model after checking new data against its card (issue #3).

Every mismatch is reported in words: missing columns stop prediction (ModelError); extra
columns, values that cannot be read as the trained type, unseen category levels and missing
values are warnings, and the rows still get a prediction (the pipeline imputes and ignores
unknown levels exactly as it did in training).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from statbot.analysis.ml.card import ModelCard
from statbot.analysis.ml.intervals import DEFAULT_LEVEL, available_levels, half_width
from statbot.analysis.ml.pipeline import FeatureSpec, prepare_features
from statbot.analysis.ml.scoring import score_predictions, target_column
from statbot.errors import ModelError

PREDICTION_COLUMN = "prediction"
LOWER_COLUMN = "prediction_lower"
UPPER_COLUMN = "prediction_upper"
PROBA_PREFIX = "proba_"
_EXAMPLES = 3


@dataclass
class PredictionResult:
    """The input rows with ``prediction`` (and ``proba_<class>``, or for a regressor with
    intervals ``prediction_lower`` / ``prediction_upper``) appended; ``summary`` the numbers the
    first sentence cites; ``interval`` how the intervals were made; ``scores`` the metrics
    against the file's own target column, when it has one (statbot.analysis.ml.scoring)."""

    frame: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    interval: dict[str, Any] | None = None
    scores: dict[str, Any] | None = None
    target_column: Any | None = None

    def to_dict(self) -> dict[str, Any]:
        """The numbers of the run for ``statbot analyze predict --json`` (no rows)."""
        return {
            "summary": self.summary,
            "interval": self.interval,
            "scores": self.scores,
            "target_column": None if self.target_column is None else str(self.target_column),
        }

    def to_csv_bytes(self) -> bytes:
        """UTF-8 CSV, formula-escaped for spreadsheets, floats at full precision."""
        from statbot.analysis.io import safe_csv_bytes

        return safe_csv_bytes(self.frame)


def _examples(values: pd.Series) -> str:
    shown = [repr(str(v)) for v in values.unique()[:_EXAMPLES]]
    return ", ".join(shown)


def _match_columns(frame: pd.DataFrame, card: ModelCard, warnings: list[str]) -> pd.DataFrame:
    """Map card features to input columns; a column differing only in case/spaces is accepted."""
    by_loose = {str(c).strip().lower(): c for c in frame.columns}
    renames: dict[Any, str] = {}
    missing: list[str] = []
    for name in card.feature_names:
        if name in frame.columns:
            continue
        loose = by_loose.get(name.strip().lower())
        if loose is not None and loose not in card.feature_names:
            renames[loose] = name
            warnings.append(f"Column '{loose}' was used as the model's column '{name}'.")
        else:
            missing.append(name)
    if missing:
        listed = ", ".join(f"'{m}'" for m in missing)
        raise ModelError(
            f"missing columns {missing}",
            user_message=(
                f"The model '{card.name}' needs the column{'s' if len(missing) > 1 else ''} "
                f"{listed}, which {'are' if len(missing) > 1 else 'is'} not in this file. It was "
                f"trained on: {', '.join(card.feature_names)}."
            ),
        )
    used = set(card.feature_names) | set(renames)
    target = target_column(frame, card)
    extra = [str(c) for c in frame.columns if c not in used and c != target]
    if extra:
        warnings.append(
            f"{len(extra)} column{'s' if len(extra) > 1 else ''} not used by the model "
            f"{'were' if len(extra) > 1 else 'was'} ignored: {', '.join(extra[:10])}"
            + (" …" if len(extra) > 10 else "")
            + "."
        )
    return frame.rename(columns=renames)[card.feature_names]


def _check_column(spec: FeatureSpec, raw: pd.Series, cast: pd.Series, warnings: list[str]) -> None:
    kind_words = {
        "numeric": "numbers",
        "datetime": "dates",
        "boolean": "true/false values",
        "categorical": "categories",
    }
    raw_missing = raw.isna()
    failed = cast.isna() & ~raw_missing
    if spec.kind != "categorical" and failed.any():
        bad = raw[failed]
        if failed.sum() == (~raw_missing).sum():
            raise ModelError(
                f"column {spec.name} not castable to {spec.kind}",
                user_message=(
                    f"Column '{spec.name}' should hold {kind_words[spec.kind]} (as in training) "
                    f"but holds values like {_examples(bad)}, none of which can be read that way."
                ),
            )
        warnings.append(
            f"Column '{spec.name}': {int(failed.sum())} value(s) could not be read as "
            f"{kind_words[spec.kind]} (e.g. {_examples(bad)}) and were treated as missing."
        )
    if spec.kind == "categorical" and spec.levels:
        known = set(spec.levels)
        unseen = cast[cast.notna() & ~cast.isin(known)]
        if not unseen.empty:
            warnings.append(
                f"Column '{spec.name}': {len(unseen)} row(s) have categories not seen in "
                f"training ({_examples(unseen)}); the model treats them as unknown."
            )
    n_missing = int(raw_missing.sum())
    if n_missing:
        how = (
            "the most common training value"
            if spec.kind == "boolean"
            else (
                "a separate 'missing' category"
                if spec.kind == "categorical"
                else "the training median"
            )
        )
        warnings.append(
            f"Column '{spec.name}' has {n_missing} missing value(s); they were filled with {how}."
        )


def _unique_name(frame: pd.DataFrame, name: str) -> str:
    candidate, suffix = name, 1
    while candidate in frame.columns:
        candidate = f"{name}_{suffix}"
        suffix += 1
    return candidate


def predict_frame(
    estimator: Any, card: ModelCard, frame: pd.DataFrame, *, level: float | None = DEFAULT_LEVEL
) -> PredictionResult:
    """Validate ``frame`` against ``card`` and append predictions (+ ``proba_<class>``, or
    the ``level`` prediction interval of a regressor whose card has one; None: no interval).
    When ``frame`` holds the target column, the predictions are scored against it."""
    if frame.empty:
        raise ModelError("no rows to predict", user_message="The file has no rows to predict.")
    warnings: list[str] = []
    selected = _match_columns(frame, card, warnings)
    prepared = prepare_features(selected, card.features)
    for spec in card.features:
        _check_column(spec, selected[spec.name], prepared[spec.name], warnings)
    out = frame.copy()
    target = target_column(frame, card)
    if card.task == "regression":
        values = np.asarray(estimator.predict(prepared), dtype="float64")
        out[_unique_name(out, PREDICTION_COLUMN)] = values
        summary: dict[str, Any] = {
            "n": len(values),
            "mean": float(np.mean(values)),
            "min": float(np.min(values)),
            "max": float(np.max(values)),
        }
        width = half_width(card.intervals, level) if level is not None else None
        interval = None
        if width is not None:
            lower, upper = _unique_name(out, LOWER_COLUMN), _unique_name(out, UPPER_COLUMN)
            out[lower], out[upper] = values - width, values + width
            interval = {
                "level": level,
                "half_width": width,
                "lower": lower,
                "upper": upper,
                "method": (card.intervals or {}).get("method"),
            }
        elif level is not None and card.intervals:
            levels = ", ".join(f"{v:.0%}" for v in available_levels(card.intervals))
            warnings.append(
                f"This model has no {level:.0%} prediction interval (it has: {levels or 'none'})."
            )
        scores = None
        if target is not None:
            scores = _seen(score_predictions(card, frame[target], values, None, width), frame, card)
        return PredictionResult(out, warnings, summary, interval, scores, target)
    proba = np.asarray(estimator.predict_proba(prepared), dtype="float64")
    classes = [str(c) for c in estimator.classes_]
    labels = np.asarray(classes, dtype=object)[np.argmax(proba, axis=1)]
    out[_unique_name(out, PREDICTION_COLUMN)] = labels
    for index, label in enumerate(classes):
        out[_unique_name(out, f"{PROBA_PREFIX}{label}")] = proba[:, index]
    counts = pd.Series(labels).value_counts()
    summary = {"n": len(labels), "counts": [[str(k), int(v)] for k, v in counts.items()]}
    scores = None
    if target is not None:
        scores = _seen(score_predictions(card, frame[target], labels, proba, None), frame, card)
    return PredictionResult(out, warnings, summary, None, scores, target)


def _seen(
    scores: dict[str, Any] | None, frame: pd.DataFrame, card: ModelCard
) -> dict[str, Any] | None:
    """``scores`` marked ``training_rows`` when ``frame`` holds the very rows the model was
    trained on (the card's hash of its labelled rows): scores on them are optimistic."""
    from statbot.analysis.ml.result import data_hash

    if scores is None or not card.data_hash:
        return scores
    columns = [*(f.name for f in card.features), card.target]
    if any(c not in frame.columns for c in columns):
        return scores
    labelled = frame.loc[frame[card.target].notna(), columns]
    if data_hash(labelled) == card.data_hash:
        scores["training_rows"] = True
    return scores
