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
    from statbot.analysis.ml.estimators import MODELS

    spec = MODELS.get(model)
    return spec.label if spec is not None else model


def training_report(result: TrainOutput, analyze_line: str) -> list[Reply]:
    """The chat's training report: the sentences `statbot analyze train` prints (the baseline
    verdict in the headline, one model name, importances with "no evidence of use")."""
    from statbot.analysis.ml import wording

    card = result.card
    lines = [
        wording.headline(card),
        f'Model id `{result.model_id}`, name "{result.name}".',
        "",
        *wording.training_lines(card),
    ]
    for warning in result.warnings[:5]:
        lines.append(f"Note: {warning}")
    lines += ["", "Reproduce with:", f"`{analyze_line}`"]
    replies = [Reply.say("\n".join(lines))]
    for name, path in result.charts.items():
        replies.append(Reply.image(path, CHART_TITLES.get(name, name), file_name=f"{name}.png"))
    return replies
