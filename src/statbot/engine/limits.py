"""Limits on what a session may hold. Data is attached by reference (a file under the data
dir), never inside the session record; this checks the file's size before it is attached."""

from __future__ import annotations

import os
from pathlib import Path

from statbot.engine.errors import DatasetTooLargeError

DEFAULT_MAX_DATAFRAME_MB = 200.0


def ensure_dataset_size(
    path: str | os.PathLike[str], max_mb: float = DEFAULT_MAX_DATAFRAME_MB
) -> int:
    """Return the file's size in bytes; raise :class:`DatasetTooLargeError` (with a message for
    the user) when it is larger than ``max_mb`` megabytes (MiB)."""
    size = Path(path).stat().st_size
    if size > max_mb * 1024 * 1024:
        raise DatasetTooLargeError(str(path), size, max_mb)
    return size
