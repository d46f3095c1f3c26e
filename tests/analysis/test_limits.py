"""The data limits' one home: statbot.analysis.io.limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from statbot.analysis.errors import DatasetTooLargeError
from statbot.analysis.io.limits import ensure_dataset_size
from statbot.errors import DataError


def test_dataset_size_limit(tmp_path: Path) -> None:
    small = tmp_path / "small.csv"
    small.write_bytes(b"x" * 1000)
    assert ensure_dataset_size(small, max_mb=0.001) == 1000
    big = tmp_path / "big.csv"
    big.write_bytes(b"x" * 2000)
    with pytest.raises(DatasetTooLargeError) as caught:
        ensure_dataset_size(big, max_mb=0.001)
    assert isinstance(caught.value, DataError)
    assert "more than the 0.001 MB" in caught.value.user_message
