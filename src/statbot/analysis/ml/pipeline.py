"""Task detection, feature typing and the preprocessing that lives INSIDE every statbot model.

The fitted estimator is a ``Pipeline(preprocess, model)`` so that a saved file carries its own
imputation, scaling, one-hot encoding and datetime expansion (issue #3). ``prepare_features``
is the one place where raw columns are coerced to the kind recorded on the model card; training
and prediction both call it, so a model sees the same dtypes at fit and at predict time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from statbot.errors import ModelError

log = logging.getLogger(__name__)

Task = Literal["regression", "binary", "multiclass"]
Kind = Literal["numeric", "categorical", "datetime", "boolean"]

# An integer-valued numeric target with at most this many distinct values is read as class
# labels (e.g. 0/1/2 for iris species); more levels, or any fractional value, means regression.
MAX_CLASS_LEVELS = 10
# A categorical feature keeps its most frequent levels; the rest share one "infrequent" column.
MAX_ONE_HOT_LEVELS = 50
# Levels stored on the card per categorical feature (for prediction-time checks and the chat).
MAX_CARD_LEVELS = 200
MISSING_LEVEL = "(missing)"
DATETIME_PARTS = ("year", "month", "day", "dayofweek")


@dataclass(frozen=True)
class FeatureSpec:
    """One input column as the model saw it: name, kind, pandas dtype and category levels."""

    name: str
    kind: Kind
    dtype: str
    levels: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "dtype": self.dtype, "levels": self.levels}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSpec:
        return cls(
            name=str(data["name"]),
            kind=data["kind"],
            dtype=str(data["dtype"]),
            levels=[str(v) for v in data.get("levels", [])],
        )


def detect_task(target: pd.Series) -> Task:
    """regression / binary / multiclass from the target's values; one class is an error."""
    values = target.dropna()
    name = str(target.name)
    if values.empty:
        raise ModelError(
            f"target {name!r} is empty",
            user_message=f"The target column '{name}' has no values, so there is nothing to learn.",
        )
    n_levels = int(values.nunique())
    if n_levels < 2:
        only = values.iloc[0]
        raise ModelError(
            f"target {name!r} has one class",
            user_message=(
                f"The target column '{name}' has only one value ({only!r}). A model needs at least "
                "two different values to learn from."
            ),
        )
    if n_levels == 2:
        return "binary"
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return "multiclass"
    numbers = values.to_numpy(dtype="float64")
    if n_levels <= MAX_CLASS_LEVELS and bool(np.all(np.mod(numbers, 1.0) == 0.0)):
        return "multiclass"
    return "regression"


def feature_kind(column: pd.Series) -> Kind:
    """How a column enters the model."""
    if pd.api.types.is_bool_dtype(column):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(column):
        return "datetime"
    if pd.api.types.is_numeric_dtype(column):
        return "numeric"
    non_null = column.dropna()
    if not non_null.empty and all(isinstance(v, bool | np.bool_) for v in non_null):
        return "boolean"
    return "categorical"


def feature_specs(frame: pd.DataFrame, features: list[str]) -> list[FeatureSpec]:
    specs = []
    for name in features:
        column = frame[name]
        kind = feature_kind(column)
        levels: list[str] = []
        if kind == "categorical":
            counts = _as_text(column).value_counts()
            levels = [str(v) for v in counts.index[:MAX_CARD_LEVELS]]
        specs.append(FeatureSpec(name=name, kind=kind, dtype=str(column.dtype), levels=levels))
    return specs


def _as_text(column: pd.Series) -> pd.Series:
    """Category/object values as str, missing kept as NaN (what SimpleImputer recognises).

    str() runs once per distinct value (factorize), not once per row."""
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    lookup = np.array([*(str(u) for u in uniques), np.nan], dtype="object")
    return pd.Series(lookup[codes], index=column.index, name=column.name, dtype="object")


def prepare_features(frame: pd.DataFrame, specs: list[FeatureSpec]) -> pd.DataFrame:
    """Columns in card order, each coerced to its kind. Uncastable cells become missing."""
    out: dict[str, pd.Series] = {}
    for spec in specs:
        column = frame[spec.name]
        if spec.kind == "numeric":
            if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
                out[spec.name] = column.astype("float64")
            else:
                out[spec.name] = pd.to_numeric(column, errors="coerce").astype("float64")
        elif spec.kind == "boolean":
            out[spec.name] = to_boolean(column)
        elif spec.kind == "datetime":
            out[spec.name] = to_datetime(column)
        else:
            out[spec.name] = _as_text(column)
    return pd.DataFrame(out, index=frame.index)


_TRUE = {"true", "yes", "y", "1", "t", "1.0"}
_FALSE = {"false", "no", "n", "0", "f", "0.0"}


def to_boolean(column: pd.Series) -> pd.Series:
    """1.0 / 0.0 / NaN from bools, 0/1 numbers or their usual spellings (vectorised)."""
    if pd.api.types.is_bool_dtype(column):
        return column.astype("float64")
    if pd.api.types.is_numeric_dtype(column):
        numbers = column.astype("float64")
        return numbers.where(numbers.isin([0.0, 1.0]))
    text = (
        column.astype("object")
        .where(column.notna(), None)
        .map(lambda v: None if v is None else str(v).strip().lower(), na_action="ignore")
    )
    out = pd.Series(np.nan, index=column.index, dtype="float64")
    out[text.isin(_TRUE)] = 1.0
    out[text.isin(_FALSE)] = 0.0
    return out


def to_datetime(column: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(column):
        return column
    return pd.to_datetime(column, errors="coerce", format="mixed")


def datetime_features(frame: Any) -> np.ndarray[Any, np.dtype[np.float64]]:
    """year, month, day, day-of-week of every datetime column; NaN where the date is missing.

    Module-level (not a lambda) so that skops can store it by name; see saved.TRUSTED_TYPES.
    """
    data = frame if isinstance(frame, pd.DataFrame) else pd.DataFrame(frame)
    parts: list[np.ndarray[Any, np.dtype[np.float64]]] = []
    for name in data.columns:
        stamps = to_datetime(data[name])
        parts.extend(
            (
                stamps.dt.year.to_numpy(dtype="float64", na_value=np.nan),
                stamps.dt.month.to_numpy(dtype="float64", na_value=np.nan),
                stamps.dt.day.to_numpy(dtype="float64", na_value=np.nan),
                stamps.dt.day_of_week.to_numpy(dtype="float64", na_value=np.nan),
            )
        )
    if not parts:
        return np.empty((len(data), 0), dtype="float64")
    return np.column_stack(parts)


def boolean_features(frame: Any) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Booleans (or their spellings) as 1.0 / 0.0 / NaN. Module-level for skops, like above."""
    data = frame if isinstance(frame, pd.DataFrame) else pd.DataFrame(frame)
    columns = [to_boolean(data[name]).to_numpy(dtype="float64") for name in data.columns]
    if not columns:
        return np.empty((len(data), 0), dtype="float64")
    return np.column_stack(columns)


def build_preprocessor(specs: list[FeatureSpec]) -> ColumnTransformer:
    """One branch per column kind; only kinds present get a branch."""
    by_kind: dict[str, list[str]] = {}
    for spec in specs:
        by_kind.setdefault(spec.kind, []).append(spec.name)
    branches: list[tuple[str, Any, list[str]]] = []
    if "numeric" in by_kind:
        numeric = Pipeline(
            [("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]
        )
        branches.append(("numeric", numeric, by_kind["numeric"]))
    if "categorical" in by_kind:
        categorical = Pipeline(
            [
                ("impute", SimpleImputer(strategy="constant", fill_value=MISSING_LEVEL)),
                (
                    "onehot",
                    OneHotEncoder(
                        handle_unknown="ignore",
                        max_categories=MAX_ONE_HOT_LEVELS,
                        sparse_output=False,
                    ),
                ),
            ]
        )
        branches.append(("categorical", categorical, by_kind["categorical"]))
    if "datetime" in by_kind:
        dates = Pipeline(
            [
                ("expand", FunctionTransformer(datetime_features)),
                ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                ("scale", StandardScaler()),
            ]
        )
        branches.append(("datetime", dates, by_kind["datetime"]))
    if "boolean" in by_kind:
        flags = Pipeline(
            [
                ("encode", FunctionTransformer(boolean_features)),
                ("impute", SimpleImputer(strategy="most_frequent", keep_empty_features=True)),
            ]
        )
        branches.append(("boolean", flags, by_kind["boolean"]))
    return ColumnTransformer(branches, remainder="drop", verbose_feature_names_out=False)


def build_pipeline(specs: list[FeatureSpec], model: Any) -> Pipeline:
    return Pipeline([("preprocess", build_preprocessor(specs)), ("model", model)])


def prepare_target(target: pd.Series, task: Task) -> np.ndarray[Any, Any]:
    """Regression: float64. Classification: labels as strings, so cards, CSV columns and
    skops files see one label type whatever the file held (0/1, True/False, 'yes'/'no')."""
    if task == "regression":
        return pd.to_numeric(target, errors="coerce").to_numpy(dtype="float64")
    codes, uniques = pd.factorize(target, use_na_sentinel=True)
    lookup = np.array([*(_label(u) for u in uniques), "nan"], dtype="object")
    labels: np.ndarray[Any, Any] = lookup[codes]
    return labels


def _label(value: Any) -> str:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)
