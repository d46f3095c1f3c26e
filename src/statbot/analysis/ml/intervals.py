"""Prediction intervals for regressors: split-conformal on the out-of-fold CV residuals.

During k-fold CV every training row is predicted once by a model that did not see it; the
absolute residuals ``|y - ŷ_oof|`` of those ``n`` rows are exchangeable with the residual of a new
row, so the ``ceil((n + 1) · level)``-th smallest of them, ``q``, makes ``ŷ ± q`` cover a new
value with probability about ``level`` (Vovk et al.; the CV variant of Barber et al. 2021,
"jackknife+", with the same fixed width for every row). The saved model is fitted on the whole
training part, a little more data than each fold model had, so the intervals are if anything a
little wide. Only the quantiles are stored (on the card), never the residuals; the holdout
coverage is measured at training time and stored beside them, so the card shows how well they
held on rows that took no part in fitting or calibrating.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

LEVELS = (0.8, 0.9, 0.95)
DEFAULT_LEVEL = 0.9
METHOD = "split-conformal on the out-of-fold cross-validation residuals"


def conformal_quantile(abs_residuals: np.ndarray[Any, Any], level: float) -> float:
    """The ``ceil((n + 1) · level)``-th smallest absolute residual; inf when n is too small
    for that level (the finite-sample guarantee then needs an unbounded interval)."""
    values = np.sort(abs_residuals[np.isfinite(abs_residuals)])
    n = len(values)
    rank = math.ceil((n + 1) * level)
    if n == 0 or rank > n:
        return math.inf
    return float(values[rank - 1])


def calibrate(
    y_train: np.ndarray[Any, Any],
    oof: np.ndarray[Any, Any],
    y_hold: np.ndarray[Any, Any],
    hold_pred: np.ndarray[Any, Any],
    folds: int,
) -> dict[str, Any]:
    """The card's ``intervals``: the method, one half-width per level, their holdout coverage."""
    residuals = np.abs(np.asarray(y_train, dtype="float64") - np.asarray(oof, dtype="float64"))
    n = int(np.isfinite(residuals).sum())
    hold_abs = np.abs(np.asarray(y_hold, dtype="float64") - np.asarray(hold_pred, dtype="float64"))
    levels: dict[str, Any] = {}
    for level in LEVELS:
        q = conformal_quantile(residuals, level)
        covered = float(np.mean(hold_abs <= q)) if len(hold_abs) else None
        levels[f"{level:g}"] = {
            "half_width": q if math.isfinite(q) else None,
            "holdout_coverage": covered,
        }
    return {
        "method": METHOD,
        "folds": folds,
        "n_residuals": n,
        "n_holdout": len(hold_abs),
        "default_level": DEFAULT_LEVEL,
        "levels": levels,
    }


def half_width(intervals: dict[str, Any] | None, level: float) -> float | None:
    """The stored half-width at ``level``, or None (no intervals, or none at that level)."""
    if not intervals:
        return None
    entry = (intervals.get("levels") or {}).get(f"{level:g}")
    if not entry or entry.get("half_width") is None:
        return None
    return float(entry["half_width"])


def available_levels(intervals: dict[str, Any] | None) -> list[float]:
    if not intervals:
        return []
    return sorted(
        float(key)
        for key, entry in (intervals.get("levels") or {}).items()
        if entry.get("half_width") is not None
    )
