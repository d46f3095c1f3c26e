"""Delimited text (CSV/TSV/TXT) through pyarrow's multi-threaded reader.

Private to ``statbot.analysis.io``. pyarrow parses in parallel blocks and types columns as it goes,
which is what makes ingest several times faster than ``pandas.read_csv`` (benchmarks/ingest.py).
Rows whose field count differs from the header are counted by ``invalid_row_handler``; if they are
a minority they are dropped with a warning, otherwise the file is re-read leniently (short rows
padded with missing values, extra fields given their own columns).
"""

from __future__ import annotations

import csv
import io
import logging
import os
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from statbot.analysis.errors import LimitExceeded, UnreadableFile
from statbot.analysis.io._sniff import TextSniff
from statbot.analysis.io.limits import DataLimits

log = logging.getLogger(__name__)

NULLS = ["", "NA", "N/A", "n/a", "NaN", "nan", "null", "NULL", "None", "#N/A", "-", "?", "."]
BLOCK_SIZE = 4 << 20
STREAM_FROM = 32 << 20
USE_THREADS: bool | None = None  # None: decided per load by _use_threads()
STREAM_BLOCK = 8 << 20


class _Ragged:
    """invalid_row_handler: remember how many rows were off and where the first ones were."""

    def __init__(self) -> None:
        self.count = 0
        self.examples: list[str] = []

    def __call__(self, row: Any) -> str:
        # row.number is None when pyarrow parses blocks in parallel, so show the text instead.
        self.count += 1
        if len(self.examples) < 2:
            text = str(row.text).strip()
            self.examples.append(text[:40] + ("…" if len(text) > 40 else ""))
        return "skip"


def _use_threads() -> bool:
    """Parse on several threads only when cores are idle.

    pyarrow's parallel reader spends more CPU on coordination than its serial one and can only
    shorten the wall time if other cores are free. Measured on 2 busy vCPUs (load 7-9), the
    200 MB benchmark file, 7 runs each: serial median 4.2 s wall (1.3-1.9 CPU-s), threaded
    median 4.7 s (1.4-2.1 CPU-s). The 1-minute load average tells which case this is.
    """
    if USE_THREADS is not None:
        return USE_THREADS
    try:
        load = os.getloadavg()[0]
    except OSError:
        return True
    return load < (os.cpu_count() or 1) - 0.5


def _options(
    sniff: TextSniff,
    names: list[str] | None,
    block_size: int,
    ragged: _Ragged,
    pinned: dict[str, pa.DataType] | None = None,
) -> dict[str, Any]:
    if names is None and not sniff.header:
        names = [f"column_{j + 1}" for j in range(sniff.columns)]
    types = {**(pinned or {}), **dict.fromkeys(sniff.text_columns, pa.large_string())}
    return {
        "read_options": pacsv.ReadOptions(
            encoding=sniff.encoding,
            block_size=block_size,
            use_threads=_use_threads(),
            skip_rows=sniff.skip_rows,
            column_names=names,
            autogenerate_column_names=False,
        ),
        "parse_options": pacsv.ParseOptions(
            delimiter=sniff.delimiter,
            quote_char='"',
            double_quote=True,
            newlines_in_values=sniff.newlines_in_values,
            invalid_row_handler=ragged,
        ),
        "convert_options": pacsv.ConvertOptions(
            decimal_point=sniff.decimal,
            null_values=NULLS,
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
            true_values=["true", "True", "TRUE"],
            false_values=["false", "False", "FALSE"],
            column_types=types or None,
        ),
    }


def _input(source: Path | bytes) -> Any:
    return pa.BufferReader(source) if isinstance(source, bytes) else str(source)


def sample_types(head: bytes, sniff: TextSniff) -> dict[str, pa.DataType]:
    """Column types pyarrow infers on the sniffed sample (complete lines only).

    Passing them as ``column_types`` for the whole file spares pyarrow's per-block inference,
    which costs more CPU than the parse itself (measured: 2.2 s vs 0.8 s on the 200 MB
    benchmark file). Columns empty in the sample, and duplicate names, are left to inference.
    """
    cut = head[: max(head.rfind(b"\n"), head.rfind(b"\r")) + 1]
    if not cut or sniff.encoding.startswith("utf-16"):
        return {}
    try:
        schema = pacsv.read_csv(
            pa.BufferReader(cut), **_options(sniff, None, BLOCK_SIZE, _Ragged())
        ).schema
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return {}
    counts = Counter(schema.names)
    # Text as large_string: pandas' str dtype stores large_string, so reading it that way
    # spares a full copy of every text column in to_pandas.
    return {
        f.name: pa.large_string() if pa.types.is_string(f.type) else f.type
        for f in schema
        if counts[f.name] == 1 and not pa.types.is_null(f.type) and not pa.types.is_binary(f.type)
    }


def _read(
    source: Path | bytes,
    sniff: TextSniff,
    names: list[str] | None,
    pinned: dict[str, pa.DataType] | None = None,
) -> tuple[pa.Table, _Ragged]:
    """Read with the cheapest plan that fits, falling back when a value does not fit its type.

    Big files stream block by block: the whole-file reader keeps every raw block until the end
    (peak ≈ 2× the file), the streaming one frees each block once converted (≈ 1×). Types come
    from the sample (``pinned``) or, streaming without them, from the first block; a later value
    that does not fit (text in a column that started numeric) raises a conversion error, and the
    file is read again with whole-file type inference, which always fits.
    """
    size = len(source) if isinstance(source, bytes) else source.stat().st_size
    streaming = size > STREAM_FROM
    plans: list[tuple[bool, dict[str, pa.DataType] | None]] = []
    if pinned:
        plans.append((streaming, pinned))
    elif streaming:
        plans.append((True, None))
    plans.append((False, None))
    for number, (stream, types) in enumerate(plans, start=1):
        ragged = _Ragged()
        options = _options(sniff, names, STREAM_BLOCK if stream else BLOCK_SIZE, ragged, types)
        try:
            if not stream:
                return pacsv.read_csv(_input(source), **options), ragged
            reader = pacsv.open_csv(_input(source), **options)
            batches = list(reader)
            return pa.Table.from_batches(batches, schema=reader.schema), ragged
        except pa.ArrowInvalid as exc:
            if number == len(plans) or "conversion error" not in str(exc).lower():
                raise
            log.info("sampled types did not fit (%s); reading with whole-file inference", exc)
    raise AssertionError("unreachable: the last plan returns or raises")


def _lenient(data: bytes, sniff: TextSniff, warnings: list[str]) -> tuple[pa.Table, _Ragged]:
    """Re-read through Python's csv module: pad short rows, give extra fields their own columns."""
    text = data.decode(sniff.encoding, errors="replace").lstrip("\ufeff").replace("\x00", "")
    if sniff.skip_rows:
        text = "".join(text.splitlines(keepends=True)[sniff.skip_rows :])
    rows = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=sniff.delimiter) if r]
    if not rows:
        return pa.table({}), _Ragged()
    width = max(len(r) for r in rows)
    named = len(rows[0])
    if sniff.header:
        rows[0] = rows[0] + [f"column_{j + 1}" for j in range(len(rows[0]), width)]
    short = sum(1 for r in rows[1 if sniff.header else 0 :] if len(r) < width)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow(row + [""] * (width - len(row)))
    if short:
        warnings.append(
            f"{short:,} row(s) had fewer fields than the widest row; the gaps are missing values."
        )
    if sniff.header and named < width:
        warnings.append(
            f"The header names {named} columns but rows have up to {width} fields; "
            "the extra columns were named column_N."
        )
    normal = replace(sniff, encoding="utf-8", delimiter=",", newlines_in_values=True, skip_rows=0)
    return _read(out.getvalue().encode("utf-8"), normal, None)


def _read_first(
    source: Path | bytes, sniff: TextSniff, pinned: dict[str, pa.DataType]
) -> tuple[pa.Table, _Ragged, Path | bytes]:
    """pyarrow needs a line end after the header; a one-line file without one gets it added."""
    try:
        return (*_read(source, sniff, None, pinned), source)
    except pa.ArrowInvalid as exc:
        if "Empty CSV file" not in str(exc) or sniff.encoding.startswith("utf-16"):
            raise
        data = source if isinstance(source, bytes) else source.read_bytes()
        if data.rstrip(b" \t").endswith((b"\n", b"\r")):
            raise
        data += b"\n"
        return (*_read(data, sniff, None), data)


def read_delimited(
    source: Path | bytes,
    sniff: TextSniff,
    limits: DataLimits,
    warnings: list[str],
    pinned: dict[str, pa.DataType] | None = None,
) -> pa.Table:
    """Parse the whole file with the sniffed options (and ``pinned`` column types, see
    :func:`sample_types`); returns the raw (uncleaned) table."""
    pinned = pinned or {}
    if sniff.columns > limits.max_columns:
        raise LimitExceeded("max_columns", limits.max_columns, sniff.columns, unit="columns")
    if sniff.has_nul and isinstance(source, Path):
        source = source.read_bytes()
    if sniff.has_nul and isinstance(source, bytes):
        source = source.replace(b"\x00", b"")
        warnings.append("NUL bytes were removed from the file.")
    try:
        try:
            table, ragged, source = _read_first(source, sniff, pinned)
        except pa.ArrowInvalid as exc:
            if "UTF8" not in str(exc) and "utf-8" not in str(exc).lower():
                raise
            # The sample was UTF-8 but a later byte is not: the file is a legacy encoding.
            sniff = replace(sniff, encoding="cp1252")
            warnings.append("The file is not UTF-8; it was read as Windows-1252.")
            table, ragged = _read(source, sniff, None, pinned)
        if sniff.encoding == "utf-8" and any(pa.types.is_binary(f.type) for f in table.schema):
            # pyarrow types a column with invalid UTF-8 as binary: the file is a legacy encoding
            # whose first non-ASCII byte came after the sniffed sample.
            sniff = replace(sniff, encoding="cp1252")
            warnings.append("The file is not UTF-8; it was read as Windows-1252.")
            table, ragged = _read(source, sniff, None, pinned)
        if ragged.count and not sniff.newlines_in_values:
            retry = replace(sniff, newlines_in_values=True)
            table2, ragged2 = _read(source, retry, None, pinned)
            if ragged2.count < ragged.count:
                table, ragged, sniff = table2, ragged2, retry
        if ragged.count and ragged.count >= table.num_rows:
            data = source if isinstance(source, bytes) else source.read_bytes()
            return _lenient(data, sniff, warnings)[0]
    except pa.ArrowInvalid as exc:
        log.info("csv parse failed: %s", exc)
        detail = str(exc).split("\n", 1)[0]
        raise UnreadableFile(
            f"csv: {detail}",
            user_message=f"The file could not be read as a table ({detail}).",
        ) from exc
    if ragged.count:
        shown = "; ".join(repr(e) for e in ragged.examples)
        warnings.append(
            f"{ragged.count:,} row(s) had a different number of fields than the header and were "
            f"skipped (e.g. {shown})."
        )
    return table
