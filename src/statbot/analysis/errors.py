"""Data errors raised by ``statbot.analysis`` loading, schema and dataset storage.

    DataError (statbot.errors)
    ├── LimitExceeded       a DataLimits bound was crossed (names the limit and by how much)
    ├── UnsupportedFormat   the file type is not one statbot reads
    ├── UnreadableFile      the bytes are not a table of the claimed/sniffed format
    ├── EmptyData           no rows, no columns or no bytes at all
    ├── HeaderRowError      the header row the user chose is not in the file, or is empty
    ├── SchemaSpecError     a typed schema spec has a bad token (position + caret)
    ├── SchemaMismatch      a frame does not match a spec or an override (problems in words)
    └── DatasetNotFound     a stored dataset reference points at nothing

Every ``user_message`` is a sentence for the person in the chat.
"""

from __future__ import annotations

from statbot.errors import DataError


def _fmt(value: float, unit: str) -> str:
    if unit == "MB":
        return f"{value:,.1f} MB" if value >= 1 else f"{value * 1024:,.0f} KB"
    if unit == "×":
        return f"{value:,.0f}×"
    text = f"{int(value):,}" if float(value).is_integer() else f"{value:,.1f}"
    return f"{text} {unit}".rstrip()


class LimitExceeded(DataError):
    """``actual`` crossed ``limit_value`` for the limit called ``limit``.

    ``what`` is how the message names the measured thing ("The file has", "A cell in column 'x'
    has"), ``unit`` the unit ("rows", "columns", "characters", "MB").
    """

    def __init__(
        self,
        limit: str,
        limit_value: float,
        actual: float,
        *,
        unit: str,
        what: str = "The file has",
        note: str = "",
    ) -> None:
        ratio = actual / limit_value if limit_value else float("inf")
        over = f"{ratio:.1f}× over"
        bare = unit if unit in ("MB", "×") else ""
        user = (
            f"{what} {_fmt(actual, unit)}; the limit is {_fmt(limit_value, bare)} ({over})."
        ) + (f" {note}" if note else "")
        super().__init__(f"{limit} exceeded: {actual} > {limit_value}", user_message=user)
        self.limit = limit
        self.limit_value = limit_value
        self.actual = actual
        self.unit = unit


class UnsupportedFormat(DataError):
    """The file's extension or signature is not a format statbot reads."""


class UnreadableFile(DataError):
    """The bytes could not be parsed as a table."""


class EmptyData(DataError):
    """The file holds no bytes, no rows or no columns."""


class HeaderRowError(DataError):
    """The row the user named as the header is past the end of the table, or empty."""


class SchemaSpecError(DataError):
    """A schema spec could not be parsed; ``position`` is the 0-based offset of the bad token."""

    def __init__(self, message: str, *, spec: str, position: int, allowed: tuple[str, ...]) -> None:
        caret = f"  {spec}\n  {' ' * position}^"
        user = f"{message}\n{caret}\nAllowed types: {', '.join(allowed)}."
        super().__init__(f"{message} at position {position}", user_message=user)
        self.spec = spec
        self.position = position
        self.allowed = allowed


class SchemaMismatch(DataError):
    """A frame does not match the expected schema; ``problems`` lists each issue in words."""

    def __init__(self, problems: list[str]) -> None:
        shown = problems[:10]
        more = f"\n… and {len(problems) - 10} more." if len(problems) > 10 else ""
        user = "The data does not match the schema:\n" + "\n".join(f"• {p}" for p in shown) + more
        super().__init__("; ".join(problems), user_message=user)
        self.problems = problems


class DatasetNotFound(DataError):
    """A DatasetRef whose Parquet file or sidecar is missing."""


class DatasetTooLargeError(DataError):
    """A dataset is larger than ``STATBOT_MAX_DATAFRAME_SIZE_MB`` (a file to attach, or a table
    to hold in memory)."""

    def __init__(self, path: str, size_bytes: int, limit_mb: float) -> None:
        size_mb = size_bytes / (1024 * 1024)
        super().__init__(
            f"{path}: {size_mb:.1f} MB exceeds the {limit_mb:g} MB limit",
            user_message=(
                f"That dataset is {size_mb:.1f} MB, more than the {limit_mb:g} MB I can work "
                "with. Please send a smaller file (fewer rows or columns)."
            ),
        )
        self.path = path
        self.size_bytes = size_bytes
        self.limit_mb = limit_mb
