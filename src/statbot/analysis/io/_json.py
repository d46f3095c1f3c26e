"""JSON and JSON Lines into a table.

Private to ``statbot.analysis.io``. Accepted shapes: an array of objects (records), an array of
arrays (rows; a first row of strings is the header), an object of equal-length arrays (columns),
an object holding exactly one such array (``{"data": [...]}``), and one object per line (JSON
Lines). Nested objects are flattened one level (``a.b``); anything deeper is kept as JSON text.
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

from statbot.analysis.errors import EmptyData, LimitExceeded, UnreadableFile
from statbot.analysis.io._pyrows import columns_to_table
from statbot.analysis.io.limits import DataLimits

_SHAPES = (
    "an array of objects, an array of rows, an object of columns, or one object per line "
    "(JSON Lines)"
)


def _bad(message: str, detail: str) -> UnreadableFile:
    return UnreadableFile(f"json: {detail}", user_message=f"{message} statbot reads {_SHAPES}.")


def _parse(text: str, lines_hint: bool) -> tuple[Any, bool]:
    """Return (value, is_json_lines)."""
    if not lines_hint:
        try:
            return json.loads(text), False
        except RecursionError as exc:
            raise _bad("The JSON is nested too deeply to be a table.", "recursion") from exc
        except ValueError as exc:
            if text.lstrip().startswith("[") or text.count("\n") < 1:
                raise _bad(f"The file is not valid JSON ({exc}).", str(exc)) from exc
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except RecursionError as exc:
            raise _bad("The JSON is nested too deeply to be a table.", "recursion") from exc
        except ValueError as exc:
            raise _bad(f"Line {number} is not valid JSON ({exc}).", str(exc)) from exc
    return records, True


def _flatten(record: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, dict):
            for sub, inner in value.items():
                out[f"{key}.{sub}"] = inner
        else:
            out[str(key)] = value
    return out


def _records(items: list[Any], limits: DataLimits) -> tuple[list[str], list[list[Any]]]:
    names: dict[str, int] = {}
    rows: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, dict):
            raise _bad("The JSON array mixes objects with other values.", "mixed records")
        flat = _flatten(item)
        for key in flat:
            if key not in names:
                names[key] = len(names)
        rows.append(flat)
    if len(names) > limits.max_columns:
        raise LimitExceeded("max_columns", limits.max_columns, len(names), unit="columns")
    keys = list(names)
    return keys, [[row.get(k) for row in rows] for k in keys]


def _read_lines_arrow(data: bytes) -> pa.Table | None:
    """JSON Lines through pyarrow: typed columns without a Python object per value (a 200 MB
    file would need gigabytes as Python dicts). Nested objects are flattened one level, like
    the Python path; None when pyarrow cannot read it (mixed types…), and the Python path runs."""
    import pyarrow.json as pajson

    try:
        table = pajson.read_json(pa.BufferReader(data))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    names = table.schema.names
    flat = table.flatten()
    if len(set(flat.schema.names)) != len(flat.schema.names) or len(set(names)) != len(names):
        return None  # "a.b" as a key and as a nested path: leave it to the Python path
    return flat


def read_json(data: bytes, limits: DataLimits, warnings: list[str], *, lines: bool) -> pa.Table:
    """Parse ``data`` (UTF-8, BOM tolerated) into a raw table."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _bad("The JSON file is not UTF-8 text.", str(exc)) from exc
    if not text.strip():
        raise EmptyData("json: empty", user_message="The file is empty: it has no rows or columns.")
    if lines:
        table = _read_lines_arrow(data)
        if table is not None:
            return table
    value, _ = _parse(text, lines)
    if isinstance(value, dict):
        arrays = [v for v in value.values() if isinstance(v, list)]
        if len(value) == 1 and arrays:
            value = arrays[0]
        elif value and all(isinstance(v, list) for v in value.values()):
            lengths = {len(v) for v in value.values()}
            if len(lengths) != 1:
                raise _bad("The JSON columns have different lengths.", "ragged columns")
            if len(value) > limits.max_columns:
                raise LimitExceeded("max_columns", limits.max_columns, len(value), unit="columns")
            keys = list(value)
            return columns_to_table(keys, [value[k] for k in keys], warnings)
        else:
            value = [value]
    if not isinstance(value, list):
        raise _bad("The JSON file holds a single value, not a table.", "scalar")
    if not value:
        raise EmptyData("json: no records", user_message="The JSON file holds no records.")
    if len(value) > limits.max_rows + 1:
        raise LimitExceeded("max_rows", limits.max_rows, len(value), unit="rows")
    if all(isinstance(v, list) for v in value):
        width = max(len(v) for v in value)
        if width > limits.max_columns:
            raise LimitExceeded("max_columns", limits.max_columns, width, unit="columns")
        first = value[0]
        header = bool(first) and all(isinstance(v, str) for v in first) and len(value) > 1
        body = value[1:] if header else value
        names: list[Any] = (
            list(first) + [None] * (width - len(first))
            if header
            else [f"column_{j + 1}" for j in range(width)]
        )
        columns = [[row[j] if j < len(row) else None for row in body] for j in range(width)]
        return columns_to_table(names, columns, warnings)
    keys, columns = _records(value, limits)
    return columns_to_table(keys, columns, warnings)
