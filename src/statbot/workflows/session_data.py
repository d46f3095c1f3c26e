"""What each conversation keeps in its session, as a typed dataclass (issue 10: string keys in
``ctx.data`` were read and written in ~140 places, unchecked).

A workflow declares its class (``Workflow(data=StatsData.from_dict)``) and its handlers read it
with ``ctx.typed(StatsData)``; the engine writes ``to_dict()`` back into the session when the
handler returns, so the session stays JSON (DESIGN.md: no pickles). ``to_dict`` writes the key
layout the dict-based handlers wrote and ``from_dict`` reads it: a session stored before the
dataclasses, its back-stack included, loads unchanged (tests/workflows/test_session_data.py).
A value not set is left out of the dict, as the old handlers left the key out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Self, TypeVar

from statbot.errors import StatbotError
from statbot.workflows.data import Loaded

T = TypeVar("T")


def required(value: T | None, name: str) -> T:
    """A choice an earlier step made (``name`` says which): missing, it is a workflow bug."""
    if value is None:
        raise StatbotError(f"{name} was not chosen before this step")
    return value


def _opt_str(raw: dict[str, Any], key: str) -> str | None:
    value = raw.get(key)
    return None if value is None else str(value)


def _opt_list(raw: dict[str, Any], key: str) -> list[str] | None:
    value = raw.get(key)
    return None if value is None else [str(v) for v in value]


def _compact(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


@dataclass
class AnalysisData:
    """What every conversation on a dataset keeps: the request that started it (a one-shot
    "describe it"; see workflows/intents.py) and the dataset the data step took."""

    intent: dict[str, str] = field(default_factory=dict)
    dataset: Loaded | None = None

    @property
    def loaded(self) -> Loaded:
        """The dataset, in the steps after the data step (a workflow bug before it)."""
        return required(self.dataset, "the dataset")

    def to_dict(self) -> dict[str, Any]:
        return _compact(
            {
                "intent": dict(self.intent) if self.intent else None,
                "dataset": self.dataset.to_dict() if self.dataset is not None else None,
            }
        )

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Self:
        return cls(**cls._base(raw))

    @staticmethod
    def _base(raw: dict[str, Any]) -> dict[str, Any]:
        dataset = raw.get("dataset")
        return {
            "intent": {str(k): str(v) for k, v in (raw.get("intent") or {}).items()},
            "dataset": Loaded.from_dict(dataset) if dataset else None,
        }


@dataclass
class StatsData(AnalysisData):
    """/stats: the analysis, the ticked columns, a test's first variable, a regression's target.
    ``selected`` None means "not chosen yet" (the menu then ticks the first columns)."""

    preset_analysis: str | None = None  # named by the request; skips the analysis question
    analysis: str | None = None
    selected: list[str] | None = None
    var_a: str | None = None
    var_b: str | None = None  # a test's second variable, while pairing or the value is asked
    test: dict[str, Any] | None = None  # the last test's a, b, paired, mu, method: rerun it
    target: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            **_compact(
                {
                    "preset_analysis": self.preset_analysis,
                    "analysis": self.analysis,
                    "selected": self.selected,
                    "var_a": self.var_a,
                    "var_b": self.var_b,
                    "test": dict(self.test) if self.test is not None else None,
                    "target": self.target,
                }
            ),
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Self:
        return cls(
            **cls._base(raw),
            preset_analysis=_opt_str(raw, "preset_analysis"),
            analysis=_opt_str(raw, "analysis"),
            selected=_opt_list(raw, "selected"),
            var_a=_opt_str(raw, "var_a"),
            var_b=_opt_str(raw, "var_b"),
            test=dict(raw["test"]) if isinstance(raw.get("test"), dict) else None,
            target=_opt_str(raw, "target"),
        )

    def new_analysis(self) -> None:
        """Forget the choices of the last analysis (the dataset stays)."""
        self.analysis = self.selected = self.var_a = self.var_b = self.target = None
        self.test = None


@dataclass
class ExploreData(AnalysisData):
    """/explore: the columns ticked for their distributions."""

    selected: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "selected": self.selected}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Self:
        return cls(**cls._base(raw), selected=_opt_list(raw, "selected") or [])


@dataclass
class Deferred:
    """/train on a server file read only by the training job: its path and the user's
    description of its columns (``price:float, city:category``)."""

    path: str
    spec: str

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "spec": self.spec}


@dataclass
class TrainOutcome:
    """How a training that did not succeed ended: ``failed`` (with the error) or ``cancelled``."""

    status: str
    error: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"status": self.status, "error": self.error}


@dataclass
class TrainData(AnalysisData):
    """/train: the data's checks and corrections, the choices, the job and how it ended."""

    path: str | None = None  # a server path, until the user says load now or defer
    deferred: Deferred | None = None
    schema_text: str | None = None  # the column types as shown (after the corrections)
    overrides: dict[str, str] = field(default_factory=dict)  # column → kind the user corrected
    target: str | None = None
    features: list[str] | None = None  # None: not chosen yet (the menu ticks all)
    task: str | None = None  # classification or regression, detected from the target
    model: str | None = None
    tune: bool = False  # "Train and tune": search the model's hyper-parameters (issue 11)
    job_id: str | None = None
    progress: float | None = None
    outcome: TrainOutcome | None = None
    analyze: str | None = None  # the `statbot analyze train` line of this training

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            **_compact(
                {
                    "path": self.path,
                    "deferred": self.deferred.to_dict() if self.deferred else None,
                    "schema_text": self.schema_text,
                    "overrides": dict(self.overrides) if self.overrides else None,
                    "target": self.target,
                    "features": self.features,
                    "task": self.task,
                    "model": self.model,
                    "tune": True if self.tune else None,
                    "job_id": self.job_id,
                    "progress": self.progress,
                    "outcome": self.outcome.to_dict() if self.outcome else None,
                    "analyze": self.analyze,
                }
            ),
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Self:
        deferred = raw.get("deferred")
        outcome = raw.get("outcome")
        progress = raw.get("progress")
        return cls(
            **cls._base(raw),
            path=_opt_str(raw, "path"),
            deferred=Deferred(str(deferred["path"]), str(deferred["spec"])) if deferred else None,
            schema_text=_opt_str(raw, "schema_text"),
            overrides={str(k): str(v) for k, v in (raw.get("overrides") or {}).items()},
            target=_opt_str(raw, "target"),
            features=_opt_list(raw, "features"),
            task=_opt_str(raw, "task"),
            model=_opt_str(raw, "model"),
            tune=raw.get("tune") is True,
            job_id=_opt_str(raw, "job_id"),
            progress=None if progress is None else float(progress),
            outcome=(
                TrainOutcome(str(outcome.get("status", "")), str(outcome.get("error") or ""))
                if outcome
                else None
            ),
            analyze=_opt_str(raw, "analyze"),
        )


@dataclass
class ChosenModel:
    """/predict's model, as its card describes it: id, name, the columns it needs, its target."""

    id: str
    name: str
    features: list[str]
    target: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "features": self.features, "target": self.target}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ChosenModel:
        return cls(
            id=str(raw["id"]),
            name=str(raw.get("name", "")),
            features=[str(f) for f in raw.get("features") or []],
            target=str(raw.get("target", "")),
        )


@dataclass
class PredictData(AnalysisData):
    """/predict: the model chosen (then the data step's dataset)."""

    model: ChosenModel | None = None

    @property
    def chosen(self) -> ChosenModel:
        """The model, in the steps after the model step (a workflow bug before it)."""
        return required(self.model, "the model")

    def to_dict(self) -> dict[str, Any]:
        model = self.model.to_dict() if self.model is not None else None
        return {**super().to_dict(), **_compact({"model": model})}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Self:
        model = raw.get("model")
        return cls(**cls._base(raw), model=ChosenModel.from_dict(model) if model else None)
