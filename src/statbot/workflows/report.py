"""Reports as replies: short text for the phone, full-precision tables as CSV documents, charts
as images, and the exact ``statbot analyze`` line that reproduces the numbers."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from statbot.engine.replies import Reply

if TYPE_CHECKING:
    from statbot.jobs.train_io import TrainOutput

CHART_TITLES = {
    "predicted_vs_actual": "Predicted vs actual (holdout)",
    "residuals": "Residuals and Q-Q plot (holdout)",
    "confusion_matrix": "Confusion matrix (holdout)",
    "roc": "ROC curve (holdout)",
    "importance": "Permutation feature importance",
    "leaderboard": "Models compared by cross-validation",
}


def fmt(value: Any, digits: int = 4) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "—"
        return f"{value:.{digits}g}"
    return str(value)


def _label(model: str) -> str:
    from statbot.analysis.ml.catalog import MODELS

    spec = MODELS.get(model)
    return spec.label if spec is not None else model


def training_report(result: TrainOutput, analyze_line: str) -> list[Reply]:
    card = result.card
    metrics = card.get("metrics") or {}
    cv = metrics.get("cv") or {}
    holdout = metrics.get("holdout") or {}
    primary = card.get("primary_metric", "")
    lines = [
        f"*Model trained*: {_label(card['model_name'])} predicting *{card['target']}* "
        f"({card['task']}).",
        f'Model id `{result.model_id}`, name "{result.name}".',
        "",
        f"Cross-validation ({card.get('cv_scheme', {}).get('folds', 5)}-fold), mean ± std:",
    ]
    for name, values in cv.items():
        mark = " ←" if name == primary else ""
        lines.append(f"  {name}: {fmt(values.get('mean'))} ± {fmt(values.get('std'))}{mark}")
    if holdout:
        lines.append(f"Holdout ({card.get('n_holdout', '?')} rows):")
        lines.extend(f"  {name}: {fmt(value)}" for name, value in holdout.items())
    board = card.get("leaderboard") or []
    if len(board) > 1:
        lines.append("Leaderboard:")
        for i, entry in enumerate(board, 1):
            score = fmt(entry.get("mean")) if entry.get("mean") is not None else entry.get("status")
            lines.append(f"  {i}. {entry['model']}: {score}")
    top = (card.get("importances") or [])[:5]
    if top:
        lines.append(
            "Most important features: "
            + ", ".join(f"{item['feature']} ({fmt(item['mean'], 2)})" for item in top)
        )
    for warning in result.warnings[:5]:
        lines.append(f"Note: {warning}")
    lines += ["", "Reproduce with:", f"`{analyze_line}`"]
    replies = [Reply.say("\n".join(lines))]
    for name, path in result.charts.items():
        replies.append(Reply.image(path, CHART_TITLES.get(name, name), file_name=f"{name}.png"))
    return replies
