"""Bounds on user data, one per setting (issue #3: each limit is a setting) — the one home of
the data limits: what a loaded file may be (``DataLimits``) and how large a stored dataset a
conversation may use (:func:`ensure_dataset_size`)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from statbot.analysis.errors import DatasetTooLargeError

if TYPE_CHECKING:
    from statbot.config import Settings


@dataclass(frozen=True, slots=True)
class DataLimits:
    """What a loaded file may be at most. Defaults equal :class:`statbot.config.Settings`'."""

    max_file_mb: float = 200.0
    max_rows: int = 5_000_000
    max_columns: int = 2_000
    max_cell_chars: int = 10_000
    max_excel_uncompressed_mb: float = 500.0
    # A zip whose members inflate more than this many times their compressed size is refused
    # before openpyxl sees it; real workbooks compress 5-20×, bombs compress 1000×.
    max_compression_ratio: float = 200.0
    # Parquet compresses runs of equal values to almost nothing; a small file may claim billions
    # of values. Refused when rows × fixed widths alone exceed this, before decoding.
    max_decoded_mb: float = 4096.0

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)

    @classmethod
    def from_settings(cls, settings: Settings) -> DataLimits:
        return cls(
            max_file_mb=settings.max_file_mb,
            max_rows=settings.max_rows,
            max_columns=settings.max_columns,
            max_cell_chars=settings.max_cell_chars,
            max_excel_uncompressed_mb=settings.max_excel_uncompressed_mb,
        )


def ensure_dataset_size(path: str | os.PathLike[str], max_mb: float = 200.0) -> int:
    """Return the file's size in bytes; raise :class:`DatasetTooLargeError` (with a message for
    the user) when it is larger than ``max_mb`` megabytes (MiB)."""
    size = Path(path).stat().st_size
    if size > max_mb * 1024 * 1024:
        raise DatasetTooLargeError(str(path), size, max_mb)
    return size
