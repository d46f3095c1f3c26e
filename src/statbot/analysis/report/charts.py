"""Charts as PNG bytes, sized and lettered for a phone screen (1000×800 px, large fonts).

Figures are built with ``matplotlib.figure.Figure`` rendered by the Agg canvas, never through
pyplot's global figure registry, so nothing leaks and charts can be drawn from any thread.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

WIDTH_IN, HEIGHT_IN, DPI = 10.0, 8.0, 100
_STYLE: dict[str, Any] = {
    "font.size": 16,
    "axes.titlesize": 20,
    "axes.labelsize": 17,
    "xtick.labelsize": 14,
    "ytick.labelsize": 14,
    "legend.fontsize": 14,
    "axes.grid": True,
    "grid.alpha": 0.3,
}
MAX_BARS = 20
MAX_HEATMAP_COLUMNS = 15
MAX_POINTS = 5000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@contextmanager
def _figure(nrows: int = 1, ncols: int = 1, **kwargs: Any) -> Iterator[tuple[Figure, Any]]:
    with matplotlib.rc_context(_STYLE):  # type: ignore[arg-type]
        fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, layout="constrained")
        FigureCanvasAgg(fig)
        axes = fig.subplots(nrows, ncols, squeeze=True, **kwargs)
        yield fig, axes


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _finite(values: Any) -> np.ndarray[Any, np.dtype[np.float64]]:
    array: np.ndarray[Any, np.dtype[np.float64]] = pd.to_numeric(
        pd.Series(np.asarray(values).ravel()), errors="coerce"
    ).to_numpy(dtype="float64")
    finite: np.ndarray[Any, np.dtype[np.float64]] = array[np.isfinite(array)]
    return finite


def _sample(n: int, limit: int = MAX_POINTS) -> np.ndarray[Any, np.dtype[np.int64]]:
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(0).choice(n, limit, replace=False))


def histogram_box(values: Sequence[float] | np.ndarray[Any, Any] | pd.Series, title: str) -> bytes:
    """Histogram with a box plot underneath, sharing the x axis."""
    data = _finite(values)
    with _figure(2, 1, sharex=True, gridspec_kw={"height_ratios": [4, 1]}) as (fig, (top, bottom)):
        top.hist(
            data, bins="auto" if data.size < 10_000 else 60, color="#4C72B0", edgecolor="white"
        )
        top.set_title(title)
        top.set_ylabel("count")
        bottom.boxplot(data, orientation="horizontal", widths=0.6)
        bottom.set_yticks([])
        bottom.set_xlabel(f"{title} (n={data.size})")
        return _png(fig)


def groups_violin_box(samples: dict[str, Any], value: str, factor: str) -> bytes:
    """A violin (the shape) with a box plot inside (median, quartiles) and the mean as a dot,
    one per group; a group whose values are all equal gets the box only (no density to draw)."""
    names = list(samples)[:MAX_BARS]
    data = [_finite(samples[g]) for g in names]
    positions = np.arange(1, len(names) + 1)
    with _figure() as (fig, ax):
        shaped = [i for i, d in enumerate(data) if d.size > 1 and float(d.min()) < float(d.max())]
        if shaped:
            parts = ax.violinplot(
                [data[i] for i in shaped],
                positions=positions[shaped],
                showextrema=False,
                widths=0.8,
            )
            for body in parts["bodies"]:
                body.set_facecolor("#4C72B0")
                body.set_alpha(0.35)
        ax.boxplot(data, positions=positions, widths=0.25, showfliers=True)
        means = [float(d.mean()) if d.size else np.nan for d in data]
        ax.plot(positions, means, "o", color="#C44E52", label="mean")
        ax.set_xticks(positions, [f"{g}\n(n={d.size})" for g, d in zip(names, data, strict=True)])
        shown = "" if len(samples) <= MAX_BARS else f" (first {MAX_BARS} of {len(samples)})"
        ax.set_title(f"{value} by {factor}{shown}")
        ax.set_ylabel(value)
        ax.legend(loc="best")
        return _png(fig)


def scatter_fit(x: Any, y: Any, x_label: str, y_label: str) -> bytes:
    """Scatter plot with the least-squares line and its equation."""
    frame = pd.DataFrame(
        {
            "x": pd.to_numeric(pd.Series(np.asarray(x)), errors="coerce"),
            "y": pd.to_numeric(pd.Series(np.asarray(y)), errors="coerce"),
        }
    ).dropna()
    with _figure() as (fig, ax):
        shown = frame.iloc[_sample(len(frame))]
        ax.scatter(shown["x"], shown["y"], s=18, alpha=0.6, color="#4C72B0")
        if len(frame) >= 2 and frame["x"].nunique() > 1:
            slope, intercept = np.polyfit(frame["x"], frame["y"], 1)
            grid = np.linspace(frame["x"].min(), frame["x"].max(), 100)
            ax.plot(
                grid,
                intercept + slope * grid,
                color="#C44E52",
                linewidth=3,
                label=f"y = {intercept:.4g} + {slope:.4g}·x",
            )
            ax.legend(loc="best")
        ax.set_xlabel(x_label)
        ax.set_ylabel(y_label)
        ax.set_title(f"{y_label} vs {x_label} (n={len(frame)})")
        return _png(fig)


def correlation_heatmap(matrix: pd.DataFrame, title: str = "Correlation") -> bytes:
    """Square matrix (e.g. ``frame.corr()``) with the value written in each cell."""
    matrix = matrix.iloc[:MAX_HEATMAP_COLUMNS, :MAX_HEATMAP_COLUMNS]
    values = matrix.to_numpy(dtype="float64")
    with _figure() as (fig, ax):
        image = ax.imshow(values, cmap="RdBu_r", vmin=-1, vmax=1)
        ax.grid(False)
        ax.set_xticks(
            range(len(matrix.columns)), [str(c) for c in matrix.columns], rotation=45, ha="right"
        )
        ax.set_yticks(range(len(matrix.index)), [str(c) for c in matrix.index])
        size = 14 if len(matrix) <= 8 else 10
        for (i, j), value in np.ndenumerate(values):
            if np.isfinite(value):
                ax.text(
                    j,
                    i,
                    f"{value:.2f}",
                    ha="center",
                    va="center",
                    fontsize=size,
                    color="white" if abs(value) > 0.6 else "black",
                )
        fig.colorbar(image, ax=ax, shrink=0.8)
        ax.set_title(title)
        return _png(fig)


def residuals_qq(fitted: Any, residuals: Any) -> bytes:
    """Residuals vs fitted values (left) and a normal Q-Q plot of the residuals (right)."""
    from scipy import stats

    fit = np.asarray(fitted, dtype="float64")
    res = np.asarray(residuals, dtype="float64")
    keep = np.isfinite(fit) & np.isfinite(res)
    fit, res = fit[keep], res[keep]
    with _figure(1, 2) as (fig, (left, right)):
        rows = _sample(fit.size)
        left.scatter(fit[rows], res[rows], s=16, alpha=0.6, color="#4C72B0")
        left.axhline(0.0, color="#C44E52", linewidth=2)
        left.set_xlabel("fitted")
        left.set_ylabel("residual")
        left.set_title("Residuals vs fitted")
        (theoretical, ordered), (slope, intercept, _) = stats.probplot(res, dist="norm")
        right.scatter(theoretical, ordered, s=16, alpha=0.6, color="#4C72B0")
        right.plot(theoretical, intercept + slope * theoretical, color="#C44E52", linewidth=2)
        right.set_xlabel("normal quantiles")
        right.set_ylabel("residual quantiles")
        right.set_title("Normal Q-Q")
        return _png(fig)


def confusion_matrix_chart(y_true: Any, y_pred: Any, labels: Sequence[str]) -> bytes:
    """Counts per (true, predicted) class, with the count in each cell."""
    from sklearn.metrics import confusion_matrix

    labels = [str(v) for v in labels][:MAX_HEATMAP_COLUMNS]
    truth = np.asarray([str(v) for v in np.asarray(y_true).ravel()], dtype=object)
    guess = np.asarray([str(v) for v in np.asarray(y_pred).ravel()], dtype=object)
    counts = confusion_matrix(truth, guess, labels=labels)
    with _figure() as (fig, ax):
        ax.imshow(counts, cmap="Blues")
        ax.grid(False)
        ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
        ax.set_yticks(range(len(labels)), labels)
        threshold = counts.max() / 2 if counts.size else 0
        for (i, j), value in np.ndenumerate(counts):
            ax.text(
                j,
                i,
                str(value),
                ha="center",
                va="center",
                fontsize=18,
                color="white" if value > threshold else "black",
            )
        ax.set_xlabel("predicted")
        ax.set_ylabel("actual")
        ax.set_title(f"Confusion matrix (n={int(counts.sum())})")
        return _png(fig)


def roc_curves(y_true: Any, proba: Any, classes: Sequence[str]) -> bytes:
    """ROC curve of the positive class (binary) or one-vs-rest per class, AUC in the legend."""
    from sklearn.metrics import auc, roc_curve

    truth = np.asarray([str(v) for v in np.asarray(y_true).ravel()], dtype=object)
    scores = np.asarray(proba, dtype="float64")
    labels = [str(c) for c in classes]
    shown = [1] if len(labels) == 2 else list(range(min(len(labels), 10)))
    with _figure() as (fig, ax):
        for index in shown:
            positive = truth == labels[index]
            if positive.all() or not positive.any():
                continue
            fpr, tpr, _ = roc_curve(positive, scores[:, index])
            ax.plot(fpr, tpr, linewidth=3, label=f"{labels[index]} (AUC {auc(fpr, tpr):.3f})")
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1.5, label="chance")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.01)
        ax.set_xlabel("false positive rate")
        ax.set_ylabel("true positive rate")
        ax.set_title("ROC curve" if len(shown) == 1 else "ROC curves (one vs rest)")
        ax.legend(loc="lower right")
        return _png(fig)


def _bars(
    names: list[str],
    values: list[float],
    errors: list[float] | None,
    title: str,
    x_label: str,
    *,
    colors: list[str] | None = None,
) -> bytes:
    with _figure() as (fig, ax):
        positions = np.arange(len(names))[::-1]
        ax.barh(positions, values, xerr=errors, color=colors or "#4C72B0", capsize=4)
        ax.set_yticks(positions, names)
        ax.set_xlabel(x_label)
        ax.set_title(title)
        ax.grid(axis="y", visible=False)
        return _png(fig)


def importance_bars(importances: Sequence[Any], title: str = "Feature importance") -> bytes:
    """Bars of permutation importance (items with ``feature``, ``mean``, ``std`` attributes or
    keys), largest on top, at most MAX_BARS."""
    from statbot.analysis.ml.result import has_evidence

    items = [_get(i, "feature", "mean", "std") for i in importances][:MAX_BARS]
    # Grey: no evidence of use (a drop within the shuffles' noise), never drawn as a finding.
    colors = ["#4C72B0" if has_evidence(i[1], i[2]) else "#B0B0B0" for i in items]
    return _bars(
        [str(i[0]) if has_evidence(i[1], i[2]) else f"{i[0]} (no evidence)" for i in items],
        [float(i[1]) for i in items],
        [float(i[2]) for i in items],
        title,
        "drop in score when shuffled",
        colors=colors,
    )


def leaderboard_bars(entries: Sequence[Any], title: str = "Model comparison") -> bytes:
    """Cross-validated score per model (items with ``model``, ``mean``, ``std``, ``metric``);
    entries without a score (skipped for time) are left out."""
    items = [(_label(e), *_get(e, "mean", "std", "metric")) for e in entries]
    items = [i for i in items if i[1] is not None][:MAX_BARS]
    metric = str(items[0][3]) if items else "score"
    return _bars(
        [str(i[0]) for i in items],
        [float(i[1]) for i in items],
        [float(i[2] or 0.0) for i in items],
        title,
        f"{metric} (cross-validated)",
    )


def _label(entry: Any) -> str:
    """A leaderboard entry's one name ("gradient boosting"); older cards have only the id."""
    label = entry.get("label") if isinstance(entry, dict) else getattr(entry, "label", None)
    return str(label or _get(entry, "model")[0])


def _get(item: Any, *names: str) -> tuple[Any, ...]:
    if isinstance(item, dict):
        return tuple(item.get(name) for name in names)
    return tuple(getattr(item, name) for name in names)
