"""The sentences of a training report, generated from the numbers they cite (issue 11).

The chat (``workflows/report.py``, ``workflows/models.py``) and ``statbot analyze train`` call
the same functions, so both say the same thing. They read a model card *as a dict*
(``ModelCard.to_dict()``, or ``TrainOutput.card`` in the bot process) and import no
scikit-learn. Markup is the engine's neutral one: ``*bold*`` and `` `code` ``.
"""

from __future__ import annotations

import math
from typing import Any

METRIC_LABELS: dict[str, str] = {
    "accuracy": "accuracy",
    "balanced_accuracy": "balanced accuracy",
    "f1": "F1",
    "f1_macro": "F1 (macro)",
    "roc_auc": "ROC AUC",
    "roc_auc_ovr": "ROC AUC (one-vs-rest)",
    "log_loss": "log loss",
    "r2": "R²",
    "rmse": "RMSE",
    "mae": "MAE",
}
_LOWER_IS_BETTER = frozenset({"rmse", "mae", "log_loss"})
MAX_UNUSED_LISTED = 8


def num(value: Any, digits: int = 4) -> str:
    """A number for reading: ``digits`` significant digits; "—" for a missing value."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def metric_label(metric: str) -> str:
    return METRIC_LABELS.get(metric, metric)


def model_label(card: dict[str, Any]) -> str:
    """The model's one name; a card written before it carried ``model_label`` gets it from
    estimators module (the models statbot can train)."""
    label = card.get("model_label")
    if label:
        return str(label)
    from statbot.analysis.ml.estimators import model_label as estimator_label

    return estimator_label(str(card.get("model_name", "")))


def _primary(card: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    metric = str(card.get("primary_metric", ""))
    cv = ((card.get("metrics") or {}).get("cv") or {}).get(metric) or {}
    return metric, cv


def verdict(card: dict[str, Any]) -> str | None:
    """ "better", "within_noise", "not_better", or None for a card without a baseline."""
    comparison = (card.get("baseline") or {}).get("comparison") or {}
    found = comparison.get("verdict")
    return str(found) if found else None


def headline(card: dict[str, Any]) -> str:
    what = f"{model_label(card)} predicting *{card.get('target')}* ({card.get('task')})"
    found = verdict(card)
    if found == "not_better":
        return f"*Model saved, but it does not beat the baseline*: {what}."
    if found == "within_noise":
        return f"*Model trained, but not clearly better than the baseline*: {what}."
    return f"*Model trained*: {what}."


def baseline_description(card: dict[str, Any]) -> str:
    predicts = (card.get("baseline") or {}).get("predicts") or {}
    if card.get("task") == "regression":
        return f"always predicting the mean of {card.get('target')} ({num(predicts.get('mean'))})"
    share = predicts.get("share")
    shown = f", {share:.0%} of the training rows" if isinstance(share, float) else ""
    return f"always predicting the most common class '{predicts.get('class')}'{shown}"


def baseline_sentence(card: dict[str, Any]) -> str | None:
    """How the model compares with the baseline, by cross-validation on the same folds."""
    baseline = card.get("baseline") or {}
    comparison = baseline.get("comparison") or {}
    metric, cv = _primary(card)
    base = (baseline.get("cv") or {}).get(metric) or {}
    if not comparison or not cv or not base:
        return None
    m = metric_label(metric)
    scores = f"cross-validated {m} {num(cv.get('mean'))} vs {num(base.get('mean'))}"
    folds = comparison.get("folds")
    diff, margin = comparison.get("difference"), comparison.get("margin")
    what = baseline_description(card)
    found = comparison.get("verdict")
    if found == "better":
        return (
            f"It beats the baseline ({what}): {scores}, a difference of {num(diff, 3)} on "
            f"average over the {folds} folds (noise margin {num(margin, 2)})."
        )
    if found == "within_noise":
        return (
            f"It is not clearly better than the baseline ({what}): {scores}; the difference of "
            f"{num(diff, 3)} is within the fold-to-fold noise ({num(margin, 2)}), so there is "
            "no clear evidence that its predictions are better."
        )
    return (
        f"It does not beat the baseline ({what}): {scores}. Its predictions are no more "
        f"useful than that; the chosen features may carry little information about "
        f"{card.get('target')}."
    )


def leaderboard_lines(card: dict[str, Any]) -> list[str]:
    """Numbered rows, best first, by the primary metric; the baseline row is marked."""
    lines = []
    position = 0
    for entry in card.get("leaderboard") or []:
        score = entry.get("mean")
        shown = (
            f"{num(score)} ± {num(entry.get('std'), 2)}"
            if score is not None
            else str(entry.get("status"))
        )
        label = entry.get("label") or entry.get("model")
        if entry.get("status") == "baseline":
            lines.append(f"  –  {label}: {shown}")
        else:
            position += 1
            lines.append(f"  {position}. {label}: {shown}")
    return lines


def importance_lines(card: dict[str, Any], top: int = 5) -> list[str]:
    """The columns the model shows evidence of using, then those it shows none for."""
    items = card.get("importances") or []
    if not items:
        return []
    m = metric_label(str(card.get("primary_metric", "")))
    used = [i for i in items if i.get("evidence")]
    unused = [i for i in items if not i.get("evidence")]
    lines = []
    if used:
        caveat = (
            f" The model relies on these, but as it does not clearly beat the baseline this is "
            f"no evidence that they predict {card.get('target')}."
            if verdict(card) in ("not_better", "within_noise")
            else ""
        )
        lines.append(
            f"Most important features (drop in {m} on the holdout when shuffled): "
            + ", ".join(f"{i['feature']} ({num(i['mean'], 2)})" for i in used[:top])
            + "."
            + caveat
        )
    else:
        lines.append(
            f"No feature shows evidence of use: shuffling any one of them lowers the {m} by no "
            "more than the shuffles' own noise."
        )
    if unused and used:
        names = [str(i["feature"]) for i in unused]
        shown = ", ".join(names[:MAX_UNUSED_LISTED])
        if len(names) > MAX_UNUSED_LISTED:
            shown += f" and {len(names) - MAX_UNUSED_LISTED} more"
        lines.append(
            f"No evidence of use (shuffling lowers the {m} by no more than noise): {shown}."
        )
    return lines


def interval_sentence(card: dict[str, Any]) -> str | None:
    intervals = card.get("intervals") or {}
    if not intervals:
        return None
    level = float(intervals.get("default_level", 0.9))
    entry = (intervals.get("levels") or {}).get(f"{level:g}") or {}
    how = (
        f"{intervals.get('method')} ({intervals.get('n_residuals')} rows, "
        f"{intervals.get('folds')}-fold)"
    )
    if entry.get("half_width") is None:
        return f"Prediction intervals: too few rows for a {level:.0%} interval by {how}."
    coverage = entry.get("holdout_coverage")
    held = (
        f"; on the {intervals.get('n_holdout')} holdout rows, {coverage:.1%} of the actual "
        "values fell inside"
        if isinstance(coverage, float)
        else ""
    )
    return (
        f"Prediction intervals: each prediction gets a {level:.0%} interval, prediction ± "
        f"{num(entry['half_width'])}, from {how}{held}."
    )


def _params(params: dict[str, Any]) -> str:
    return ", ".join(f"{key.removeprefix('estimator__')}={value}" for key, value in params.items())


def tuning_sentence(card: dict[str, Any]) -> str | None:
    tuning = card.get("tuning") or {}
    if not tuning:
        return None
    label = model_label(card)
    if not tuning.get("planned"):
        return f"Tuning: {label} has no hyper-parameters to search, so it keeps its defaults."
    m = metric_label(str(tuning.get("metric", "")))
    best, untuned = tuning.get("best") or {}, tuning.get("untuned") or {}
    cut = f", {tuning['stopped']} left out by the budget" if tuning.get("stopped") else ""
    gain = (best.get("mean") or 0.0) - (untuned.get("mean") or 0.0)
    if tuning.get("metric") in _LOWER_IS_BETTER:
        gain = -gain
    spread = (
        " (a gain smaller than the fold-to-fold spread)"
        if 0 < gain < (untuned.get("std") or 0.0)
        else ""
    )
    text = (
        f"Tuning: {tuning.get('tried')} of {tuning.get('planned')} settings tried in "
        f"{num(tuning.get('seconds'), 2)} s (budget {num(tuning.get('budget_s'))} s{cut}). "
        f"Cross-validated {m}: {num(best.get('mean'))} ± {num(best.get('std'), 2)} tuned vs "
        f"{num(untuned.get('mean'))} ± {num(untuned.get('std'), 2)} with the defaults"
    )
    if tuning.get("kept") == "tuned":
        return f"{text}{spread}; kept the tuned setting {_params(tuning.get('params') or {})}."
    return f"{text}; kept the defaults (no setting scored higher)."


def training_lines(card: dict[str, Any]) -> list[str]:
    """The whole report body after the headline, one line or block per item."""
    metric, _ = _primary(card)
    lines = [
        f"Cross-validation ({(card.get('cv_scheme') or {}).get('folds', 5)}-fold), mean ± std:"
    ]
    for name, values in ((card.get("metrics") or {}).get("cv") or {}).items():
        mark = " ←" if name == metric else ""
        lines.append(
            f"  {metric_label(name)}: {num(values.get('mean'))} ± {num(values.get('std'))}{mark}"
        )
    holdout = (card.get("metrics") or {}).get("holdout") or {}
    base_hold = (card.get("baseline") or {}).get("holdout") or {}
    if holdout:
        lines.append(f"Holdout ({card.get('n_holdout', '?')} rows):")
        for name, value in holdout.items():
            versus = f" (baseline {num(base_hold[name])})" if name in base_hold else ""
            lines.append(f"  {metric_label(name)}: {num(value)}{versus}")
    for sentence in (baseline_sentence(card), tuning_sentence(card)):
        if sentence:
            lines.append(sentence)
    board = leaderboard_lines(card)
    if len(board) > 1:
        lines.append(f"Leaderboard (cross-validated {metric_label(metric)}):")
        lines.extend(board)
    lines.extend(importance_lines(card))
    intervals = interval_sentence(card)
    if intervals:
        lines.append(intervals)
    return lines
