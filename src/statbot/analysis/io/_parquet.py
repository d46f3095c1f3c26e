"""Reading Parquet under the data limits: shape and decoded size are checked from the metadata
before a single value is decoded (a small file may claim billions of values)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from statbot.analysis.errors import LimitExceeded, UnreadableFile
from statbot.analysis.io.limits import DataLimits

if TYPE_CHECKING:
    import pyarrow as pa

log = logging.getLogger("statbot.analysis.io")


def _value_bytes(arrow_type: pa.DataType) -> int:
    """Lower bound of decoded bytes per value: the fixed width, or a 4-byte offset."""
    try:
        return max(int(arrow_type.bit_width) // 8, 1)
    except ValueError:
        return 4


def read_parquet(source: bytes | Path, limits: DataLimits) -> pa.Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from statbot.analysis.io._clean import check_shape

    try:
        handle = pq.ParquetFile(pa.BufferReader(source) if isinstance(source, bytes) else source)
        meta = handle.metadata
        check_shape(meta.num_rows, meta.num_columns, limits)
        # Fixed-width columns decode to rows × width bytes whatever their compressed size;
        # refuse before decoding a small file that claims billions of values.
        decoded = sum(meta.num_rows * _value_bytes(f.type) for f in handle.schema_arrow)
        if decoded > limits.max_decoded_mb * 1024 * 1024:
            raise LimitExceeded(
                "max_decoded_mb",
                limits.max_decoded_mb,
                decoded / 1024 / 1024,
                unit="MB",
                what="The Parquet file decodes to at least",
            )
        return handle.read()
    except LimitExceeded:
        raise
    except Exception as exc:  # pyarrow raises many types on corrupt files; translate them all
        log.info("parquet refused: %r", exc)
        raise UnreadableFile(
            f"parquet: {exc!r}",
            user_message="This Parquet file is damaged or not a Parquet file.",
        ) from exc
