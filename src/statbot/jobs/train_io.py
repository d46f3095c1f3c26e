"""The ``train`` job's input and output, one frozen dataclass each (the Temporal-samples habit).

:class:`TrainInput` is what the bot asks for; its ``to_dict()`` is the job's JSON payload, which
the job table stores and the worker subprocess reads back with :meth:`TrainInput.from_dict`.
The dataset travels by reference, never as data: a stored dataset (:class:`StoredDataset`) or a
file read at training time (:class:`DatasetFile`, deferred loading of a server path). Either is
read once, inside the job, under the operator's :class:`DataLimits`.

The payload keeps the flat field names of the dict the job took before it was typed (issue 10),
so jobs already in a job table still run: ``dataset`` (a ``DatasetRef`` dict) or
``dataset_path`` (with ``schema`` and ``roots``), ``limits`` (``DataLimits`` fields; a missing
or null one means the defaults, as it did then), ``overrides``, ``target``, ``features``,
``model``, ``cv``, ``seed``, ``name``, and since issue 11 ``tune`` (absent: False). A payload
that does not fit raises
:class:`BadJobInput`, which fails the job without a retry.

:class:`TrainOutput` is the job's JSON result: ``summary`` (one line for the user), ``model_id``,
``name``, ``model_path``, ``card`` (the model card as a dict; ``ModelCard`` itself would pull
sklearn into the bot process, see ``statbot.analysis.ml.card``), ``warnings`` and ``charts``
({name: PNG path}).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from statbot.analysis.io.datasets import DatasetRef
from statbot.analysis.io.limits import DataLimits
from statbot.errors import JobError

__all__ = ["BadJobInput", "DatasetFile", "StoredDataset", "TrainInput", "TrainOutput"]

_LIMIT_FIELDS = frozenset(f.name for f in dataclasses.fields(DataLimits))
_RETRY_HINT = "Please start the training again."
T = TypeVar("T")


class BadJobInput(JobError):
    """A job payload or result that does not have the shape its kind needs (a bug or a damaged
    job table, never the user's doing); ``field`` names the first offending field."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(
            f"bad train job payload: {field}: {problem}",
            user_message=f"The training job's settings could not be read ({field}). {_RETRY_HINT}",
        )
        self.field = field


@dataclass(frozen=True, slots=True)
class StoredDataset:
    """A dataset of the dataset store (``<data_dir>/datasets``)."""

    ref: DatasetRef


@dataclass(frozen=True, slots=True)
class DatasetFile:
    """A file read at training time with ``load_path``, then cast to ``schema`` (a spec in the
    grammar of ``parse_schema_spec``) when given. With ``roots`` (a server path's allowed
    folders) the path is checked against them again right before the read."""

    path: Path
    schema: str | None = None
    roots: tuple[Path, ...] | None = None


@dataclass(frozen=True, slots=True)
class TrainInput:
    """One training run. ``overrides`` ({column: type}) are the user's type corrections;
    ``features`` None means every column but the target; ``name`` None names the model after
    the estimator and the target."""

    user_id: int
    idempotency_key: str
    data_dir: Path
    source: StoredDataset | DatasetFile
    target: str
    limits: DataLimits = field(default_factory=DataLimits)
    features: tuple[str, ...] | None = None
    model: str = "auto"
    cv: int = 5
    seed: int = 0
    name: str | None = None
    overrides: Mapping[str, str] = field(default_factory=dict)
    tune: bool = False  # search the chosen model's hyper-parameters (issue 11)
    # The user's storage quota (issue 12): the model is not kept if it takes the user's
    # datasets and models past it. None: no limit (and payloads before issue 12).
    max_storage_mb: float | None = None

    def to_dict(self) -> dict[str, Any]:
        source = self.source
        file = source if isinstance(source, DatasetFile) else None
        return {
            "user_id": self.user_id,
            "idempotency_key": self.idempotency_key,
            "data_dir": str(self.data_dir),
            "dataset": source.ref.to_dict() if isinstance(source, StoredDataset) else None,
            "dataset_path": str(file.path) if file else None,
            "schema": file.schema if file else None,
            "limits": dataclasses.asdict(self.limits),
            "roots": [str(r) for r in file.roots] if file and file.roots is not None else None,
            "overrides": dict(self.overrides),
            "target": self.target,
            "features": list(self.features) if self.features is not None else None,
            "model": self.model,
            "cv": self.cv,
            "seed": self.seed,
            "name": self.name,
            "tune": self.tune,
            "max_storage_mb": self.max_storage_mb,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainInput:
        """The input of a stored payload; :class:`BadJobInput` if it is not one."""
        if not isinstance(data, Mapping):
            raise BadJobInput("payload", f"a {type(data).__name__}, not an object")
        # Old payloads wrote falsy values for "not chosen"; they meant the defaults.
        cv = _opt(data, "cv", int) or 5
        if cv < 2:
            raise BadJobInput("cv", f"{cv} folds; at least 2 are needed")
        user_id = _req(data, "user_id", int)
        source = _source(data)
        if isinstance(source, StoredDataset) and str(source.ref.user_id) != str(user_id):
            raise BadJobInput("dataset", "a dataset of another user")
        return cls(
            user_id=user_id,
            idempotency_key=_req(data, "idempotency_key", str),
            data_dir=Path(_req(data, "data_dir", str)),
            source=source,
            target=_req(data, "target", str),
            limits=_limits(data.get("limits")),
            features=_opt_strings(data, "features"),
            model=_opt(data, "model", str) or "auto",
            cv=cv,
            seed=_opt(data, "seed", int) or 0,
            name=_opt(data, "name", str) or None,
            overrides=_overrides(data.get("overrides")),
            tune=_opt(data, "tune", bool) or False,  # payloads before issue 11 have none
            max_storage_mb=_opt_float(data, "max_storage_mb"),
        )


@dataclass(frozen=True, slots=True)
class TrainOutput:
    """What a finished training run produced."""

    summary: str
    model_id: str
    name: str
    model_path: str
    card: dict[str, Any]
    warnings: tuple[str, ...] = ()
    charts: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "summary": self.summary,
            "model_id": self.model_id,
            "name": self.name,
            "model_path": self.model_path,
            "card": self.card,
            "warnings": list(self.warnings),
            "charts": dict(self.charts),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainOutput:
        if not isinstance(data, Mapping):
            raise BadJobInput("result", f"a {type(data).__name__}, not an object")
        card = data.get("card")
        if not isinstance(card, dict):
            raise BadJobInput("card", "missing or not an object")
        charts = data.get("charts") or {}
        if not isinstance(charts, Mapping):
            raise BadJobInput("charts", "not an object")
        return cls(
            summary=_req(data, "summary", str),
            model_id=_req(data, "model_id", str),
            name=_req(data, "name", str),
            model_path=_req(data, "model_path", str),
            card=card,
            warnings=_opt_strings(data, "warnings") or (),
            charts={str(k): str(v) for k, v in charts.items()},
        )


def _source(data: Mapping[str, Any]) -> StoredDataset | DatasetFile:
    dataset, path = data.get("dataset"), data.get("dataset_path")
    if bool(dataset) == bool(path):
        raise BadJobInput("dataset", "give exactly one of dataset and dataset_path")
    if dataset:
        if not isinstance(dataset, Mapping):
            raise BadJobInput("dataset", "not an object")
        for extra in ("schema", "roots"):
            if data.get(extra):
                raise BadJobInput(extra, "only a dataset_path has one")
        try:
            ref = DatasetRef.from_dict(dict(dataset))
        except (KeyError, TypeError, ValueError) as exc:
            raise BadJobInput("dataset", f"not a dataset reference ({exc!r})") from exc
        return StoredDataset(ref)
    if not isinstance(path, str):
        raise BadJobInput("dataset_path", "not a string")
    roots = data.get("roots")
    if roots is not None and not (
        isinstance(roots, list) and all(isinstance(r, str) for r in roots)
    ):
        raise BadJobInput("roots", "not a list of folders")
    return DatasetFile(
        path=Path(path),
        schema=_opt(data, "schema", str) or None,
        roots=tuple(Path(r) for r in roots) if roots is not None else None,
    )


def _limits(value: Any) -> DataLimits:
    if value is None:
        return DataLimits()  # a payload written before the limits were always passed
    if not isinstance(value, Mapping):
        raise BadJobInput("limits", "not an object")
    unknown = sorted(set(value) - _LIMIT_FIELDS)
    if unknown:
        raise BadJobInput("limits", f"unknown limits {', '.join(map(str, unknown))}")
    for name, limit in value.items():
        if isinstance(limit, bool) or not isinstance(limit, int | float) or limit <= 0:
            raise BadJobInput("limits", f"{name} is {limit!r}, not a positive number")
    return DataLimits(**value)


def _overrides(value: Any) -> dict[str, str]:
    if not value:
        return {}
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise BadJobInput("overrides", "not an object of column: type")
    return dict(value)


def _req(data: Mapping[str, Any], key: str, kind: type[T]) -> T:
    value = _opt(data, key, kind)
    if value is None:
        raise BadJobInput(key, "missing")
    return value


def _opt(data: Mapping[str, Any], key: str, kind: type[T]) -> T | None:
    value = data.get(key)
    if value is None:
        return None
    # bool is an int, but True folds or a user id of True is a damaged payload, not a number.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise BadJobInput(key, f"{type(value).__name__}, not {kind.__name__}")
    return value


def _opt_float(data: Mapping[str, Any], key: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadJobInput(key, f"{type(value).__name__}, not a number")
    return float(value)


def _opt_strings(data: Mapping[str, Any], key: str) -> tuple[str, ...] | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise BadJobInput(key, "not a list of strings")
    return tuple(value)
