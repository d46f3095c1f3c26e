"""Design matrices for regression: numeric columns as they are, categorical ones one-hot
encoded against their first level (alphabetical), rows with missing values dropped and counted."""

from __future__ import annotations

from typing import TYPE_CHECKING

from statbot.analysis.frames import column_kind
from statbot.errors import DataError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

MAX_LEVELS = 50


def _numeric_target(frame: pd.DataFrame, target: str) -> None:
    if column_kind(frame[target]) != "numeric":
        raise DataError(
            f"target {target} not numeric",
            user_message=(
                f'The target "{target}" must be numeric for linear regression '
                "(use logistic regression for a yes/no outcome)."
            ),
        )


def _dropped_note(dropped: int, total: int) -> list[str]:
    if not dropped:
        return []
    return [f"{dropped} of {total} rows had missing or non-finite values and were left out."]


def build_design(
    frame: pd.DataFrame, target: str, features: list[str]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], list[str], list[str]]:
    """(X without intercept, y, column names of X, notes for the user)."""
    import numpy as np

    _numeric_target(frame, target)
    if not features:
        raise DataError("no features", user_message="Choose at least one predictor.")
    if target in features:
        raise DataError(
            "target among features",
            user_message=(f'"{target}" is the target; it cannot also be a predictor.'),
        )
    columns: list[npt.NDArray[np.float64]] = []
    names: list[str] = []
    valid = np.isfinite(frame[target].to_numpy(dtype=float, na_value=np.nan))
    for feat in features:
        series = frame[feat]
        kind = column_kind(series)
        if kind == "numeric":
            values = series.to_numpy(dtype=float, na_value=np.nan)
            valid &= np.isfinite(values)
            columns.append(values)
            names.append(feat)
        elif kind == "categorical":
            present = series.notna().to_numpy()
            valid &= present
            levels = sorted({str(v) for v in series[present].tolist()})
            if len(levels) > MAX_LEVELS:
                raise DataError(
                    f"{feat} has {len(levels)} levels",
                    user_message=(
                        f'"{feat}" has {len(levels)} different values; at most '
                        f"{MAX_LEVELS} categories can be used as a predictor."
                    ),
                )
            text = series.astype(str).to_numpy()
            for level in levels[1:]:
                columns.append((text == level).astype(float))
                names.append(f"{feat}[T.{level}]")
        else:
            raise DataError(
                f"{feat} is datetime",
                user_message=(
                    f'"{feat}" holds dates; convert it to a number (e.g. days since a '
                    "start) to use it as a predictor."
                ),
            )
    x = np.column_stack(columns)[valid] if columns else np.empty((int(valid.sum()), 0))
    y = frame[target].to_numpy(dtype=float, na_value=np.nan)[valid]
    return x, y, names, _dropped_note(len(frame) - int(valid.sum()), len(frame))


def finite_rows(
    frame: pd.DataFrame, target: str, feature: str
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], list[str]]:
    """(x, y, notes) for a single numeric predictor, rows with missing values dropped."""
    import numpy as np

    _numeric_target(frame, target)
    if column_kind(frame[feature]) != "numeric":
        raise DataError(
            f"{feature} not numeric",
            user_message=f'"{feature}" must be numeric for a polynomial fit.',
        )
    x = frame[feature].to_numpy(dtype=float, na_value=np.nan)
    y = frame[target].to_numpy(dtype=float, na_value=np.nan)
    ok = np.isfinite(x) & np.isfinite(y)
    return x[ok], y[ok], _dropped_note(len(frame) - int(ok.sum()), len(frame))
