"""Design matrices for regression: numeric columns as they are, categorical ones one-hot
encoded against their first level (alphabetical), rows with missing values dropped and counted.

:func:`design` also keeps what a report needs to be read correctly (issue 11): the reference
level of each dummy-coded factor, which design columns belong to which predictor, and the
positions of the rows used, so influential points can be named by their row in the file."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class Design:
    x: npt.NDArray[np.float64]  # n × k, without the intercept
    y: npt.NDArray[np.float64]
    names: list[str]  # the columns of x: numeric features, then "factor[T.level]" dummies
    notes: list[str]  # for the user (rows left out)
    rows: npt.NDArray[np.int64]  # positions in the frame of the rows used (0-based)
    references: dict[str, str]  # factor → its reference level (the dropped first level)
    term_of: dict[str, str]  # design column → the feature it comes from


def build_design(
    frame: pd.DataFrame, target: str, features: list[str]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], list[str], list[str]]:
    """(X without intercept, y, column names of X, notes for the user)."""
    d = design(frame, target, features)
    return d.x, d.y, d.names, d.notes


def design(frame: pd.DataFrame, target: str, features: list[str]) -> Design:
    """The design of ``target`` on ``features``, with reference levels and the rows used."""
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
    references: dict[str, str] = {}
    term_of: dict[str, str] = {}
    constant: list[str] = []
    valid = np.isfinite(frame[target].to_numpy(dtype=float, na_value=np.nan))
    for feat in features:
        series = frame[feat]
        kind = column_kind(series)
        if kind == "numeric":
            values = series.to_numpy(dtype=float, na_value=np.nan)
            valid &= np.isfinite(values)
            columns.append(values)
            names.append(feat)
            term_of[feat] = feat
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
            if len(levels) == 1:
                constant.append(f'"{feat}" has one value only ({levels[0]}); it was left out.')
            elif levels:
                references[feat] = levels[0]
            for level in levels[1:]:
                columns.append((text == level).astype(float))
                names.append(f"{feat}[T.{level}]")
                term_of[names[-1]] = feat
        else:
            raise DataError(
                f"{feat} is datetime",
                user_message=(
                    f'"{feat}" holds dates; convert it to a number (e.g. days since a '
                    "start) to use it as a predictor."
                ),
            )
    if not columns:
        raise DataError(
            "no varying predictor",
            user_message="None of the chosen predictors has more than one value.",
        )
    x = np.column_stack(columns)[valid]
    y = frame[target].to_numpy(dtype=float, na_value=np.nan)[valid]
    notes = [*_dropped_note(len(frame) - int(valid.sum()), len(frame)), *constant]
    return Design(x, y, names, notes, np.flatnonzero(valid), references, term_of)


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
