"""Loading user files into a DataFrame: CSV/TSV/TXT, Excel (.xlsx), Parquet, JSON/JSON Lines.

Public API (stable; the CLI, workflows and jobs call these)::

    load_bytes(data, file_name, limits=DataLimits()) -> LoadResult
    load_path(path, limits=DataLimits()) -> LoadResult
    peek_rows(path, limits) -> [(row number, cells)]   # the rows a header may be picked from
    safe_csv_bytes(frame) -> bytes

Any input either loads (a cleaned frame plus warnings the user should see) or raises a
:class:`statbot.errors.DataError` subclass whose ``user_message`` says what was wrong; nothing
else escapes (tests/analysis/test_hostile_corpus.py holds a corpus of hostile files to prove it).
The format is decided from the content's signature first and the file name second, so a workbook
named ``data.csv`` still loads as a workbook.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from statbot.analysis.errors import LimitExceeded, UnreadableFile, UnsupportedFormat
from statbot.analysis.io._export import safe_csv_bytes
from statbot.analysis.io._parquet import read_parquet as _read_parquet
from statbot.analysis.io._peek import peek_rows
from statbot.analysis.io.limits import DataLimits

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

__all__ = ["LoadResult", "load_bytes", "load_path", "peek_rows", "safe_csv_bytes"]

log = logging.getLogger(__name__)

_DELIMITED_EXT = {".csv", ".tsv", ".tab", ".psv"}  # never sniffed as JSON
_JSON_EXT = {".json"}
_JSONL_EXT = {".jsonl", ".ndjson", ".jsonlines"}
_EXCEL_EXT = {".xlsx", ".xlsm"}
_PARQUET_EXT = {".parquet", ".pq", ".parq"}
_OTHER_SHEETS = {".xls", ".ods", ".numbers", ".xlsb", ".fods"}
_CFB = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_FOREIGN = {
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"\x1f\x8b": "a gzip archive",
    b"7z\xbc\xaf": "a 7-Zip archive",
    b"Rar!": "a RAR archive",
    b"SQLite format 3": "an SQLite database",
}
_SUPPORTED = "CSV, TSV, TXT, Excel (.xlsx), Parquet, JSON or JSON Lines"
_HEAD = 256 * 1024
DEFAULT_LIMITS = DataLimits()


@dataclass(slots=True)
class LoadResult:
    """A loaded table and how it was read. ``warnings`` are sentences to show the user;
    ``conversions`` say which text columns were read as formatted numbers, and how."""

    frame: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    conversions: list[str] = field(default_factory=list)
    format: str = "csv"  # csv | excel | parquet | json | jsonl
    encoding: str | None = None
    delimiter: str | None = None
    decimal: str | None = None
    header: bool | None = None
    header_row: int | None = None  # the row of the column names, from 1 (None: no names)
    sheet: str | None = None
    source_bytes: int = 0
    content_hash: str = ""  # sha256 of the source bytes, for idempotent dataset storage

    @property
    def rows(self) -> int:
        return int(self.frame.shape[0])

    @property
    def columns(self) -> int:
        return int(self.frame.shape[1])


def _check_size(size: int, limits: DataLimits) -> None:
    if size > limits.max_file_bytes:
        raise LimitExceeded("max_file_mb", limits.max_file_mb, size / 1024 / 1024, unit="MB")


def detect_format(head: bytes, file_name: str) -> str:
    """csv | excel | parquet | json | jsonl, from the signature first, then the extension."""
    ext = Path(file_name).suffix.lower()
    zipped = head.startswith(b"PK\x03\x04")
    if head.startswith(_CFB) or (ext in _OTHER_SHEETS and not (zipped and ext == ".xls")):
        raise UnsupportedFormat(
            f"unsupported spreadsheet {ext or 'cfb'}",
            user_message="This looks like an old .xls, .xlsb, .ods or password-protected "
            "workbook. Save it as .xlsx or CSV and send it again.",
        )
    if zipped or (ext in _EXCEL_EXT and not head.startswith(b"PAR1")):
        return "excel"
    if head.startswith(b"PAR1") or ext in _PARQUET_EXT:
        return "parquet"
    for magic, what in _FOREIGN.items():
        if head.startswith(magic):
            raise UnsupportedFormat(
                f"foreign file: {what}",
                user_message=f"This file is {what}, not a table. Send {_SUPPORTED}.",
            )
    if ext in _JSONL_EXT:
        return "jsonl"
    if ext in _JSON_EXT:
        return "json"
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if ext not in _DELIMITED_EXT and start in (b"[", b"{"):
        return "json"
    return "csv"


def _hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _scan_file(path: Path, size: int) -> tuple[str, bool]:
    """One pass over the file's first ``size`` bytes (its size when the load began): the sha256
    and whether they hold a NUL byte anywhere."""
    digest = hashlib.sha256()
    has_nul = False
    left = size
    with path.open("rb") as handle:
        while left > 0 and (chunk := handle.read(min(4 << 20, left))):
            left -= len(chunk)
            digest.update(chunk)
            has_nul = has_nul or b"\x00" in chunk
    return digest.hexdigest(), has_nul


Scan = Callable[[], tuple[str, bool]]  # -> (sha256 hex, whether the bytes hold a NUL)


@dataclass(slots=True)
class _Job:
    """One load in progress: the input, and what is learnt about it on the way."""

    source: bytes | Path
    head: bytes
    name: str
    size: int
    scan: Scan
    limits: DataLimits
    header_row: int | None = None  # the user's choice; None detects it
    warnings: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    conversions: list[str] = field(default_factory=list)


def _read_csv(job: _Job) -> pa.Table:
    from dataclasses import replace

    from statbot.analysis.io._csv import read_delimited, sample_types
    from statbot.analysis.io._sniff import sniff_text

    sniff, found = sniff_text(
        job.head, complete=job.size <= len(job.head), header_row=job.header_row
    )
    job.warnings.extend(found)
    job.info.update(
        encoding=sniff.encoding,
        delimiter=sniff.delimiter,
        decimal=sniff.decimal,
        header=sniff.header,
        header_row=sniff.skip_rows + 1 if sniff.header else None,
    )
    for name in sniff.text_columns:
        job.conversions.append(
            f"{name}: kept as text, its values have leading zeros (like a zip code or an id)"
        )
    if sniff.has_nul or sniff.encoding.startswith("utf-16"):
        return read_delimited(job.source, sniff, job.limits, job.warnings)
    pinned = sample_types(job.head, sniff) if job.size > len(job.head) else {}
    attempt: list[str] = []
    table = read_delimited(job.source, sniff, job.limits, attempt, pinned)
    if job.scan()[1]:
        # A NUL byte past the sniffed sample: rare and hostile, so re-read with NULs removed
        # rather than scanning every file before parsing it.
        del table
        return read_delimited(
            job.source, replace(sniff, has_nul=True), job.limits, job.warnings, pinned
        )
    job.warnings.extend(attempt)
    if any("Windows-1252" in w for w in attempt):
        job.info["encoding"] = "cp1252"
    return table


def _read_table(job: _Job, fmt: str) -> pa.Table:
    if job.header_row is not None and fmt not in ("csv", "excel"):
        job.warnings.append(
            f"A {fmt.upper()} file names its columns itself; the header row you chose was not used."
        )
    if fmt == "csv":
        return _read_csv(job)
    if fmt == "parquet":
        return _read_parquet(job.source, job.limits)
    data = job.source if isinstance(job.source, bytes) else job.source.read_bytes()
    if fmt == "excel":
        from statbot.analysis.io._excel import read_xlsx

        table, job.info["sheet"], job.info["header_row"] = read_xlsx(
            data, job.limits, job.warnings, job.header_row
        )
        job.info["header"] = job.info["header_row"] is not None
        return table
    from statbot.analysis.io._json import read_json

    return read_json(data, job.limits, job.warnings, lines=fmt == "jsonl")


def _load(job: _Job) -> LoadResult:
    from statbot.analysis.io._clean import finish

    fmt = detect_format(job.head, job.name)
    job.info.update(format=fmt, source_bytes=job.size)
    # The table goes straight into finish() and is never bound here, so to_pandas'
    # self_destruct can free each Arrow column as soon as it is converted.
    frame = finish(
        _read_table(job, fmt),
        job.limits,
        job.warnings,
        decimal=job.info.get("decimal") or ".",
        check_nul=fmt != "csv",
        conversions=job.conversions,
    )
    loaded = LoadResult(
        frame=frame,
        warnings=job.warnings,
        conversions=job.conversions,
        content_hash=job.scan()[0],
        **job.info,
    )
    log.info("loaded %s: %d rows × %d columns", loaded.format, loaded.rows, loaded.columns)
    return loaded


def load_bytes(
    data: bytes,
    file_name: str,
    limits: DataLimits = DEFAULT_LIMITS,
    *,
    header_row: int | None = None,
) -> LoadResult:
    """Load an uploaded file held in memory; ``file_name`` is only a hint for the format.

    ``header_row``: the row holding the column names (from 1, as a spreadsheet counts; 0 for
    none) when the user says so; by default title rows and the header are detected."""
    _check_size(len(data), limits)
    data = bytes(data)
    scanned = (_hash(data), b"\x00" in data)
    job = _Job(data, data[:_HEAD], file_name, len(data), lambda: scanned, limits, header_row)
    return _load(job)


def load_path(
    path: str | Path, limits: DataLimits = DEFAULT_LIMITS, *, header_row: int | None = None
) -> LoadResult:
    """Load a file from disk (CSV is parsed straight from the file, not copied into memory).

    The file is hashed (and checked for NUL bytes) in a thread while it is parsed: hashlib
    releases the GIL, so on a big file the hash costs almost nothing extra."""
    from concurrent.futures import ThreadPoolExecutor

    path = Path(path)
    try:
        if path.exists() and not path.is_file() and not path.is_dir():
            # A device or FIFO (/dev/zero, a pipe) never ends: refuse before reading it.
            raise UnreadableFile(
                f"{path} is not a regular file",
                user_message=f"'{path.name}' is not a regular file.",
            )
        size = path.stat().st_size
        _check_size(size, limits)
        with path.open("rb") as handle:
            head = handle.read(_HEAD)
    except IsADirectoryError as exc:
        raise UnreadableFile(
            str(exc), user_message=f"'{path.name}' is a folder, not a file."
        ) from exc
    except PermissionError as exc:
        raise UnreadableFile(
            str(exc),
            user_message=f"Permission denied: statbot may not read '{path.name}' (the file's "
            "permissions do not allow it). Ask the server's operator to make it readable.",
        ) from exc
    except FileNotFoundError as exc:
        raise UnreadableFile(
            str(exc), user_message=f"The file '{path.name}' is no longer there."
        ) from exc
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UnreadableFile(
            str(exc), user_message=f"The file '{path.name}' could not be opened ({reason})."
        ) from exc
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="statbot-hash") as pool:
        future = pool.submit(_scan_file, path, size)
        return _load(_Job(path, head, path.name, size, future.result, limits, header_row))
