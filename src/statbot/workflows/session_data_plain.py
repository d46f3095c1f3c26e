"""The typed data of the conversations that take no dataset through the data step: /models,
/describe and the knowledge-base readers (/kb_search, /kb_get, /kb_stats). Those on a dataset
(/train, /predict, /stats, /explore) are in :mod:`statbot.workflows.session_data`; the pattern
is the same: ``to_dict`` writes the key layout the dict-based handlers wrote, ``from_dict``
reads it, so a session stored before the dataclasses goes on after an upgrade
(tests/workflows/test_session_data_plain.py), and a value not set is left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Self

from statbot.workflows.session_data import _compact, _opt_list, _opt_str, required


def _intent(raw: dict[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in (raw.get("intent") or {}).items()}


@dataclass
class Requested:
    """What every conversation keeps: the request that started it, if one did (a free-text
    request's slots, or what another conversation handed over with ``ctx.switch``)."""

    intent: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return _compact({"intent": dict(self.intent) if self.intent else None})


@dataclass
class ModelsData(Requested):
    """/models: the model whose card is open."""

    model_id: str | None = None

    @property
    def open_id(self) -> str:
        """The open card's model id, in the steps after the list (a workflow bug before)."""
        return required(self.model_id, "the model")

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), **_compact({"model_id": self.model_id})}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Self:
        return cls(intent=_intent(raw), model_id=_opt_str(raw, "model_id"))


@dataclass
class DescribeFile:
    """/describe's file: where it is read from, its name, what the reproduce line names, and
    its numeric columns (the menu's options, by position)."""

    path: str
    name: str
    source: str
    numeric: list[str]


@dataclass
class DescribeData(Requested):
    """/describe: the file, then the columns ticked (``c0``, ``c1``: positions in ``numeric``)."""

    file: DescribeFile | None = None
    selected: list[str] = field(default_factory=list)

    @property
    def table(self) -> DescribeFile:
        """The file, in the steps after the file step (a workflow bug before it)."""
        return required(self.file, "the file")

    def to_dict(self) -> dict[str, Any]:
        file = self.file
        fields: dict[str, Any] = {}
        if file is not None:  # the old layout: the file's keys beside the ticks, not nested
            fields = {
                "path": file.path,
                "name": file.name,
                "source": file.source,
                "numeric": file.numeric,
                "selected": self.selected,
            }
        return {**super().to_dict(), **fields}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Self:
        path = _opt_str(raw, "path")
        file = None
        if path is not None:
            name = str(raw.get("name", ""))
            file = DescribeFile(
                path=path,
                name=name,
                source=str(raw.get("source") or name),
                numeric=_opt_list(raw, "numeric") or [],
            )
        return cls(intent=_intent(raw), file=file, selected=_opt_list(raw, "selected") or [])


@dataclass
class KbData(Requested):
    """A knowledge-base reader: what it shows now (an entry, several explained, or a search's
    results) and the ids of the buttons shown last, which a typed number picks from."""

    query: str | None = None
    entry: str | None = None
    explained: list[str] | None = None
    shown: list[str] | None = None

    @property
    def asked(self) -> str:
        """What a free-text request asked for (its ``query`` slot)."""
        return self.intent.get("query", "").strip()

    def to_dict(self) -> dict[str, Any]:
        fields = {
            "query": self.query,
            "entry": self.entry,
            "explained": self.explained,
            "shown": self.shown,
        }
        return {**super().to_dict(), **_compact(fields)}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Self:
        return cls(
            intent=_intent(raw),
            query=_opt_str(raw, "query"),
            entry=_opt_str(raw, "entry"),
            explained=_opt_list(raw, "explained"),
            shown=_opt_list(raw, "shown"),
        )
