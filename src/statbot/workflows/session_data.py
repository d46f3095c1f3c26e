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
