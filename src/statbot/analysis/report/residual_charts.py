"""The two charts of a regression's residual checks (issue 11): residuals against fitted
values with the influential rows labelled, and a normal Q-Q plot of the standardised residuals.
Same phone-sized figures as :mod:`statbot.analysis.report.charts`, whose helpers they use."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from statbot.analysis.report.charts import _figure, _finite, _png, _sample

__all__ = ["qq_plot", "residuals_fitted"]


def residuals_fitted(
    fitted: Any, residuals: Any, marked: Sequence[tuple[int, str]] = (), title: str = ""
) -> bytes:
    """Residuals against fitted values, with the rows at the given positions labelled (the
    influential points a regression report names)."""
    fit = np.asarray(fitted, dtype="float64")
    res = np.asarray(residuals, dtype="float64")
    with _figure() as (fig, ax):
        keep = np.flatnonzero(np.isfinite(fit) & np.isfinite(res))
        rows = keep[_sample(keep.size)]
        ax.scatter(fit[rows], res[rows], s=18, alpha=0.6, color="#4C72B0")
        ax.axhline(0.0, color="#C44E52", linewidth=2)
        for position, label in marked:
            ax.scatter(fit[position], res[position], s=60, facecolors="none", edgecolors="#C44E52")
            ax.annotate(
                label,
                (fit[position], res[position]),
                xytext=(6, 6),
                textcoords="offset points",
                fontsize=13,
                color="#C44E52",
            )
        ax.set_xlabel("fitted value")
        ax.set_ylabel("residual")
        ax.set_title(title or f"Residuals vs fitted (n={keep.size})")
        return _png(fig)


def qq_plot(values: Any, title: str = "Normal Q-Q of the standardised residuals") -> bytes:
    """Normal Q-Q plot with the identity line: points on it mean normally distributed values
    (pass standardised residuals, so the line is y = x)."""
    from scipy import stats

    data = _finite(values)
    with _figure() as (fig, ax):
        (theoretical, ordered), _ = stats.probplot(data, dist="norm")
        rows = _sample(data.size)
        ax.scatter(theoretical[rows], ordered[rows], s=18, alpha=0.6, color="#4C72B0")
        low, high = float(theoretical.min()), float(theoretical.max())
        ax.plot([low, high], [low, high], color="#C44E52", linewidth=2)
        ax.set_xlabel("normal quantiles")
        ax.set_ylabel("observed quantiles")
        ax.set_title(title)
        return _png(fig)
