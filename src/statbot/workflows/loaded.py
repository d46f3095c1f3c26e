"""What a conversation remembers about a stored dataset: :class:`Loaded` (JSON-able)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Loaded", "conversion_notes", "read_notes"]


@dataclass
class Loaded:
    """What the session remembers about a stored dataset (JSON-able via ``to_dict``).

    How it was read, so that it can be read again another way and the ``statbot analyze``
    line reads it the same way: ``source`` (``{"upload": …}`` or ``{"path": …}``), ``fmt``
    (csv, excel, …), ``names_row`` (the row its column names came from; None: no names),
    ``header_row`` (the row the user picked; None: detected) and ``types`` (the user's type
    corrections, column → type)."""

    ref: dict[str, Any]
    name: str
    rows: int
    columns: list[str]
    kinds: dict[str, str]
    warnings: list[str] = field(default_factory=list)
    schema_text: str = ""
    notes: list[str] = field(default_factory=list)  # how it was read, for reports
    source: dict[str, Any] = field(default_factory=dict)
    fmt: str = ""
    names_row: int | None = None
    header_row: int | None = None
    types: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        read = {
            "source": self.source or None,
            "format": self.fmt or None,
            "names_row": self.names_row,
            "header_row": self.header_row,
            "types": self.types or None,
        }
        return {
            "ref": self.ref,
            "name": self.name,
            "rows": self.rows,
            "columns": self.columns,
            "kinds": self.kinds,
            **({"notes": self.notes} if self.notes else {}),
            **{k: v for k, v in read.items() if v is not None},
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Loaded:
        """What :meth:`to_dict` wrote (in a session's data or context); the load's warnings
        and schema table are not kept."""
        names_row, header_row = raw.get("names_row"), raw.get("header_row")
        return cls(
            ref=dict(raw.get("ref") or {}),
            name=str(raw.get("name", "")),
            rows=int(raw.get("rows") or 0),
            columns=[str(c) for c in raw.get("columns") or []],
            kinds={str(k): str(v) for k, v in (raw.get("kinds") or {}).items()},
            notes=[str(n) for n in raw.get("notes") or []],
            source=dict(raw.get("source") or {}),
            fmt=str(raw.get("format") or ""),
            names_row=None if names_row is None else int(names_row),
            header_row=None if header_row is None else int(header_row),
            types={str(k): str(v) for k, v in (raw.get("types") or {}).items()},
        )

    def reading_args(self) -> list[str]:
        """The ``statbot analyze`` options that read the file as this dataset was read: the
        header row the user picked and the type corrections (``--type zip=category``)."""
        args = [] if self.header_row is None else ["--header-row", str(self.header_row)]
        for name, kind in self.types.items():
            args += ["--type", f"{name}={kind}"]
        return args

    @property
    def rereadable(self) -> bool:
        """Whether the file can be read again with another header row (a CSV-like file or a
        workbook whose source is still known)."""
        return bool(self.source) and self.fmt in ("csv", "excel")


def read_notes(result: Any) -> list[str]:
    """How a file was read, in the sentences a report keeps (a LoadResult's conversions and
    where its column names came from)."""
    notes = list(result.conversions)
    if result.header_row and result.header_row > 1:
        notes.append(
            f"The column names are in row {result.header_row}; rows above it were skipped."
        )
    return notes


def conversion_notes(conversions: list[str]) -> list[str]:
    """What the loader read differently from how it is written, as one note (or none)."""
    listed = "\n".join(f"• {c}" for c in conversions)
    return [f"How I read some columns:\n{listed}"] if conversions else []
