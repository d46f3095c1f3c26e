"""The charts of a training (issue 11): what the chat's report and ``statbot analyze train
--html`` both show, drawn from one :class:`~statbot.analysis.ml.result.TrainResult`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from statbot.analysis.ml.result import TrainResult

__all__ = ["training_charts"]


def training_charts(result: TrainResult) -> dict[str, Callable[[], bytes]]:
    """The charts that fit the task, by name, each drawn (as PNG bytes) when called: the
    holdout's predicted vs actual and residuals, or confusion matrix and ROC curves; the
    importances and the models compared, when there are any."""
    from statbot.analysis.report import charts

    wanted: dict[str, Callable[[], bytes]] = {}
    if result.task == "regression":
        wanted["predicted_vs_actual"] = lambda: charts.scatter_fit(
            result.holdout_true, result.holdout_pred, f"actual {result.target}", "predicted"
        )
        wanted["residuals"] = lambda: charts.residuals_qq(
            result.holdout_pred, result.holdout_true - result.holdout_pred
        )
    else:
        wanted["confusion_matrix"] = lambda: charts.confusion_matrix_chart(
            result.holdout_true, result.holdout_pred, result.classes
        )
        if result.holdout_proba is not None:
            proba = result.holdout_proba
            wanted["roc"] = lambda: charts.roc_curves(result.holdout_true, proba, result.classes)
    if result.importances:
        wanted["importance"] = lambda: charts.importance_bars(result.importances)
    if len(result.leaderboard) > 1:
        wanted["leaderboard"] = lambda: charts.leaderboard_bars(result.leaderboard)
    return wanted
