"""A corpus of malformed and hostile files, generated here: none may crash the loader.

Every file must either load (a frame plus warnings) or raise a ``DataError`` whose
``user_message`` is a non-empty sentence. Where the right outcome is clear, the test also pins it
(a zip bomb is a ``LimitExceeded``, a header-only file is ``EmptyData``, …). Each file runs through
both ``load_bytes`` and ``load_path``.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import random
import sqlite3
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from statbot.analysis.errors import (
    EmptyData,
    LimitExceeded,
    UnreadableFile,
    UnsupportedFormat,
)
from statbot.analysis.io import LoadResult, load_bytes, load_path
from statbot.analysis.io.limits import DataLimits
from statbot.errors import DataError

FRAME = "frame"
DEFAULT = DataLimits()


@dataclass(frozen=True)
class Case:
    name: str
    file_name: str
    build: Callable[[], bytes]
    expect: type[DataError] | str | None = None  # None: either outcome is acceptable
    limits: DataLimits = DEFAULT


def _junk(n: int, seed: int = 1) -> bytes:
    return random.Random(seed).randbytes(n)


def _xlsx(rows: list[list[object]] | None = None, *, formulas: bool = False) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows or []:
        sheet.append(row)
    if formulas:
        sheet.append(["=1+2", '=HYPERLINK("http://x","y")', "@SUM(A1)"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def _xlsx_with(part: str, data: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(_xlsx([["a"], [1]])))
    members = {i.filename: source.read(i.filename) for i in source.infolist()}
    members[part] = data
    return _zip(members)


def _parquet(table: pa.Table) -> bytes:
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue()


def _sqlite() -> bytes:
    con = sqlite3.connect(":memory:")
    con.execute("create table t(a)")
    data = b"".join(con.iterdump().__next__().encode() for _ in range(1))
    con.close()
    return b"SQLite format 3\x00" + data + _junk(500)


def _half(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _flip(data: bytes) -> bytes:
    """Invert 40 bytes inside the first data page."""
    return data[:40] + bytes(b ^ 0xFF for b in data[40:80]) + data[80:]


def _csv_rows(n: int) -> bytes:
    return b"a,b\n" + b"".join(b"%d,%d\n" % (i, i * 2) for i in range(n))


CASES = [
    # empty and nearly empty
    Case("zero_bytes", "empty.csv", lambda: b"", EmptyData),
    Case("bom_only", "bom.csv", lambda: b"\xef\xbb\xbf", EmptyData),
    Case("whitespace_only", "ws.csv", lambda: b"  \n\n\t \r\n", EmptyData),
    Case("only_newlines", "nl.csv", lambda: b"\n" * 1000, EmptyData),
    Case("only_delimiters", "delims.csv", lambda: b",,,\n,,,\n,,,\n"),
    Case("header_only", "header.csv", lambda: b"a,b,c\n", EmptyData),
    Case("header_only_tsv_no_newline", "header.tsv", lambda: b"a\tb\tc", EmptyData),
    Case("single_value", "one.csv", lambda: b"42", FRAME),
    Case("single_column", "col.txt", lambda: b"name\nann\nbob\n", FRAME),
    # junk and foreign formats
    Case("nul_only", "nul.csv", lambda: b"\x00" * 4096, UnreadableFile),
    Case("random_bytes_csv", "junk.csv", lambda: _junk(8192), UnreadableFile),
    Case("random_bytes_no_ext", "junk", lambda: _junk(8192, 2), UnreadableFile),
    Case("random_bytes_xlsx", "junk.xlsx", lambda: _junk(8192, 3), UnreadableFile),
    Case("random_bytes_parquet", "junk.parquet", lambda: _junk(8192, 4), UnreadableFile),
    Case("random_bytes_json", "junk.json", lambda: _junk(8192, 5), UnreadableFile),
    Case("control_chars", "ctl.csv", lambda: bytes(range(1, 32)) * 200, UnreadableFile),
    Case("png_named_csv", "pic.csv", lambda: b"\x89PNG\r\n\x1a\n" + _junk(300), UnsupportedFormat),
    Case("pdf_named_csv", "doc.csv", lambda: b"%PDF-1.7\n" + _junk(300), UnsupportedFormat),
    Case("gzip_csv", "data.csv", lambda: gzip.compress(_csv_rows(10)), UnsupportedFormat),
    Case("sqlite_db", "db.csv", _sqlite, UnsupportedFormat),
    Case(
        "old_xls_cfb",
        "old.xls",
        lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + _junk(512),
        UnsupportedFormat,
    ),
    Case("ods_named", "sheet.ods", lambda: _zip({"content.xml": b"<x/>"}), UnsupportedFormat),
    Case("html_named_csv", "page.csv", lambda: b"<html><body><p>hi</p></body></html>\n"),
    # delimited text damage
    Case("ragged_rows", "rag.csv", lambda: b"a,b\n1,2\n3\n4,5,6\n7,8\n", FRAME),
    Case("ragged_minority", "rag2.csv", lambda: _csv_rows(200) + b"1,2,3,4\n", FRAME),
    Case("unclosed_quote", "q.csv", lambda: b'a,b\n1,"oops\n2,3\n'),
    Case("quotes_only", "qq.csv", lambda: b'"""",""""\n"""",""""\n'),
    Case("cr_only_line_ends", "mac.csv", lambda: b"a,b\r1,2\r3,4\r", FRAME),
    Case("mixed_line_ends", "mix.csv", lambda: b"a,b\r\n1,2\r3,4\n5,6\r\n", FRAME),
    Case("blank_lines_between", "blank.csv", lambda: b"a,b\n\n\n1,2\n\n3,4\n\n", FRAME),
    Case("duplicate_headers", "dup.csv", lambda: b"a,a,a,b\n1,2,3,4\n", FRAME),
    Case("empty_header_names", "noname.csv", lambda: b",,\n1,2,3\n4,5,6\n", FRAME),
    Case("formula_header", "f.csv", lambda: b"=cmd|' /C calc'!A0,+b,-c,@d\n1,2,3,4\n", FRAME),
    Case("formula_cells", "fc.csv", lambda: b"a\n=1+2\n+SUM(A1)\n-cmd\n@x\n\t=x\n", FRAME),
    Case("formula_only_header", "fo.csv", lambda: b"=,+,@\n1,2,3\n", FRAME),
    Case("nul_in_cells", "nulc.csv", lambda: b"a,b\n1,x\x00y\n2,z\n", FRAME),
    Case(
        "nul_past_sample",
        "nul_late.csv",
        lambda: _csv_rows(40_000) + b"7\x00,8\n",
        FRAME,
    ),
    Case("giant_cell", "big.csv", lambda: b"a,b\n1," + b"x" * 20_000 + b"\n", LimitExceeded),
    Case("giant_line_no_newline", "line.csv", lambda: b"y" * 300_000, LimitExceeded),
    Case("quoted_giant_cell", "qbig.csv", lambda: b'a\n"' + b"z," * 9_000 + b'"\n', LimitExceeded),
    Case(
        "too_many_columns",
        "wide.csv",
        lambda: ",".join(f"c{i}" for i in range(2_500)).encode() + b"\n" + b"1," * 2_499 + b"1\n",
        LimitExceeded,
    ),
    Case(
        "too_many_rows", "long.csv", lambda: _csv_rows(50), LimitExceeded, DataLimits(max_rows=10)
    ),
    Case(
        "over_file_size",
        "size.csv",
        lambda: _csv_rows(5_000),
        LimitExceeded,
        DataLimits(max_file_mb=0.01),
    ),
    Case(
        "mixed_encodings",
        "enc.csv",
        lambda: "a\ncafé\n".encode() + "naïve\n".encode("cp1252"),
        FRAME,
    ),
    Case("utf16_bom", "u16.csv", lambda: "a;b\n1;é\n".encode("utf-16"), FRAME),
    Case("utf16_no_bom", "u16le.csv", lambda: "a,b\n1,2\n3,4\n".encode("utf-16-le"), FRAME),
    Case("latin1_undefined_in_cp1252", "l1.csv", lambda: b"a\n\x81\x8d\x8f\n", FRAME),
    Case("invalid_dates", "d.csv", lambda: b"d\n2024-13-45\n2024-02-30\n", FRAME),
    Case("huge_numbers", "num.csv", lambda: b"a\n1e400\n-1e400\n99999999999999999999999\n", FRAME),
    Case("emoji_and_rtl", "u.csv", "név,שם\n😀,מבחן\n".encode, FRAME),
    Case("zip_named_csv", "z.csv", lambda: _zip({"a.csv": _csv_rows(5)}), UnreadableFile),
    # Excel
    Case("truncated_xlsx", "cut.xlsx", lambda: _xlsx([["a"], [1]])[:900], UnreadableFile),
    Case(
        "xlsx_half",
        "half.xlsx",
        lambda: _half(_xlsx([["a"], [1]] * 50)),
        UnreadableFile,
    ),
    Case(
        "zip_bomb_xlsx",
        "bomb.xlsx",
        lambda: _zip({"xl/workbook.xml": b"<w/>", "xl/worksheets/sheet1.xml": b"\0" * (64 << 20)}),
        LimitExceeded,
    ),
    Case(
        "xlsx_over_uncompressed_limit",
        "big.xlsx",
        lambda: _xlsx([["a", "b"]] + [[i, str(i)] for i in range(2_000)]),
        LimitExceeded,
        DataLimits(max_excel_uncompressed_mb=0.01),
    ),
    Case("zip_without_workbook", "nowb.xlsx", lambda: _zip({"hello.txt": b"hi"}), UnreadableFile),
    Case(
        "xlsx_garbage_sheet_xml",
        "gs.xlsx",
        lambda: _xlsx_with("xl/worksheets/sheet1.xml", b"<<not xml"),
        UnreadableFile,
    ),
    Case(
        "xlsx_garbage_workbook_xml",
        "gw.xlsx",
        lambda: _xlsx_with("xl/workbook.xml", _junk(200)),
        UnreadableFile,
    ),
    Case(
        "xlsx_entity_expansion",
        "lol.xlsx",
        lambda: _xlsx_with(
            "xl/worksheets/sheet1.xml",
            b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
            b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
            b']><worksheet><sheetData><row><c t="inlineStr"><is><t>&c;</t></is></c></row>'
            b"</sheetData></worksheet>",
        ),
    ),
    Case("xlsx_empty_sheet", "e.xlsx", lambda: _xlsx([]), EmptyData),
    Case("xlsx_header_only", "h.xlsx", lambda: _xlsx([["a", "b"]]), EmptyData),
    Case(
        "xlsx_formulas",
        "fx.xlsx",
        lambda: _xlsx([["a", "b", "c"], [1, 2, 3]], formulas=True),
        FRAME,
    ),
    Case(
        "xlsx_mixed_types",
        "mt.xlsx",
        lambda: _xlsx([["v"], [1], ["x"], [dt.datetime(2024, 1, 1)], [True]]),
        FRAME,
    ),
    Case("xlsx_giant_cell", "gc.xlsx", lambda: _xlsx([["a"], ["q" * 20_000]]), LimitExceeded),
    Case(
        "xlsx_too_many_rows",
        "tr.xlsx",
        lambda: _xlsx([["a"]] + [[i] for i in range(30)]),
        LimitExceeded,
        DataLimits(max_rows=10),
    ),
    # Parquet
    Case(
        "parquet_truncated",
        "t.parquet",
        lambda: _parquet(pa.table({"a": list(range(100))}))[:-20],
        UnreadableFile,
    ),
    Case(
        "parquet_garbage_middle",
        "g.parquet",
        lambda: b"PAR1" + _junk(1000) + b"PAR1",
        UnreadableFile,
    ),
    Case("parquet_magic_only", "m.parquet", lambda: b"PAR1", UnreadableFile),
    Case(
        "parquet_flipped_bytes",
        "f.parquet",
        lambda: _flip(
            _parquet(pa.table({"a": list(range(1000)), "s": [str(i) for i in range(1000)]}))
        ),
    ),
    Case(
        "parquet_nested",
        "n.parquet",
        lambda: _parquet(pa.table({"a": [[1, 2], [3]], "s": [{"x": 1}, {"x": 2}]})),
        FRAME,
    ),
    Case("parquet_no_columns", "nc.parquet", lambda: _parquet(pa.table({})), EmptyData),
    Case(
        "parquet_zero_rows",
        "zr.parquet",
        lambda: _parquet(pa.table({"a": pa.array([], pa.int64())})),
        EmptyData,
    ),
    Case(
        "parquet_too_many_rows",
        "r.parquet",
        lambda: _parquet(pa.table({"a": list(range(100))})),
        LimitExceeded,
        DataLimits(max_rows=10),
    ),
    Case(
        "parquet_binary_column",
        "b.parquet",
        lambda: _parquet(pa.table({"b": [b"\x00\xff", b"ok"]})),
        FRAME,
    ),
    Case(
        "parquet_duplicate_names",
        "d.parquet",
        lambda: _parquet(pa.table([pa.array([1]), pa.array([2])], names=["a", "a"])),
        FRAME,
    ),
    # JSON
    Case("json_scalar", "s.json", lambda: b"42", UnreadableFile),
    Case("json_string", "str.json", lambda: b'"hello"', UnreadableFile),
    Case("json_null", "null.json", lambda: b"null", UnreadableFile),
    Case("json_deep_array", "deep.json", lambda: b"[" * 100_000 + b"]" * 100_000, UnreadableFile),
    Case(
        "json_deep_object",
        "deepo.json",
        lambda: b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
        UnreadableFile,
    ),
    Case(
        "json_deep_in_record",
        "deepr.json",
        lambda: b'[{"a":' + b"[" * 50_000 + b"]" * 50_000 + b"}]",
        UnreadableFile,
    ),
    Case("json_empty_array", "ea.json", lambda: b"[]", EmptyData),
    Case("json_empty_object", "eo.json", lambda: b"{}", None),
    Case("json_whitespace", "ws.json", lambda: b"   \n ", EmptyData),
    Case("json_mixed_records", "mr.json", lambda: b'[{"a":1}, 2, "x"]', UnreadableFile),
    Case("json_single_quotes", "sq.json", lambda: b"{'a': 1}", UnreadableFile),
    Case("jsonl_broken_line", "b.jsonl", lambda: b'{"a":1}\n{"a":\n', UnreadableFile),
    Case("json_ragged_columns", "rc.json", lambda: b'{"a":[1,2],"b":[1]}', UnreadableFile),
    Case(
        "json_giant_string", "gs.json", lambda: b'[{"a":"' + b"x" * 20_000 + b'"}]', LimitExceeded
    ),
    Case(
        "json_too_many_keys",
        "k.json",
        ("[{" + ",".join(f'"k{i}":1' for i in range(2_500)) + "}]").encode,
        LimitExceeded,
    ),
    Case(
        "json_nan_infinity",
        "nan.json",
        lambda: b'[{"a": NaN, "b": Infinity}, {"a": 1, "b": -Infinity}]',
        FRAME,
    ),
    Case(
        "json_bigint",
        "bi.json",
        lambda: b'[{"a": 100000000000000000000000000000}, {"a": 1}]',
        FRAME,
    ),
    Case("json_not_utf8", "l1.json", lambda: '[{"a": "café"}]'.encode("cp1252"), UnreadableFile),
    Case(
        "json_nested_values",
        "nv.json",
        lambda: b'[{"a": {"b": {"c": [1, {"d": 2}]}}, "e": [1, 2]}]',
        FRAME,
    ),
    Case("json_formula_keys", "fk.json", lambda: b'[{"=cmd": "=1+1", "@x": "+2"}]', FRAME),
    Case("json_rows_ragged", "rr.json", lambda: b'[["a","b"],[1],[1,2,3]]', FRAME),
]


def _check(outcome: LoadResult | DataError, case: Case) -> None:
    if isinstance(outcome, DataError):
        assert outcome.user_message.strip(), f"{case.name}: empty user_message"
        assert case.expect != FRAME, f"{case.name}: expected a frame, got {outcome!r}"
        if isinstance(case.expect, type):
            assert isinstance(outcome, case.expect), f"{case.name}: {outcome!r}"
        return
    assert isinstance(outcome.frame, pd.DataFrame)
    assert all(isinstance(w, str) and w for w in outcome.warnings)
    assert outcome.frame.shape[1] > 0
    assert case.expect in (FRAME, None), f"{case.name}: loaded but expected {case.expect}"


def test_corpus_is_big_enough() -> None:
    assert len(CASES) >= 50
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_bytes(case: Case) -> None:
    data = case.build()
    try:
        outcome: LoadResult | DataError = load_bytes(data, case.file_name, case.limits)
    except DataError as exc:
        outcome = exc
    _check(outcome, case)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_path(case: Case, tmp_path: Path) -> None:
    path = tmp_path / case.file_name
    path.write_bytes(case.build())
    try:
        outcome: LoadResult | DataError = load_path(path, case.limits)
    except DataError as exc:
        outcome = exc
    _check(outcome, case)


_SEEDS = {
    "csv": b"id;price;city;day\n1;1,5;Lima;2024-01-05\n2;2,75;Oslo;2024-01-06\n3;;Pune;\n",
    "json": b'[{"a": 1, "b": {"c": "x"}}, {"a": 2.5, "b": {"c": null}}]',
    "jsonl": b'{"a": 1, "s": "x"}\n{"a": 2, "s": "=1+1"}\n',
    "xlsx": _xlsx([["a", "b", "when"], [1, "x", dt.datetime(2024, 1, 2)], [2.5, "=y", None]]),
    "parquet": _parquet(pa.table({"a": [1, 2, None], "s": ["x", None, "z"]})),
}


@settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
@given(
    kind=st.sampled_from(sorted(_SEEDS)),
    edits=st.lists(
        st.tuples(st.floats(0, 1), st.binary(min_size=0, max_size=8), st.integers(0, 8)),
        max_size=6,
    ),
    cut=st.floats(0.05, 1.0),
)
def test_mutated_files_never_crash(
    kind: str, edits: list[tuple[float, bytes, int]], cut: float
) -> None:
    """Seed files with bytes replaced, inserted, cut off: a frame or a DataError, nothing else."""
    data = bytearray(_SEEDS[kind])
    for where, insert, remove in edits:
        at = int(where * len(data))
        data[at : at + remove] = insert
    data = data[: max(1, int(cut * len(data)))]
    try:
        result = load_bytes(bytes(data), f"fuzz.{kind}")
    except DataError as exc:
        assert exc.user_message.strip()
    else:
        assert result.frame.shape[1] > 0


@settings(max_examples=100, deadline=None, derandomize=True)
@given(
    data=st.binary(max_size=2048), ext=st.sampled_from(["csv", "tsv", "txt", "json", "", "xlsx"])
)
def test_random_bytes_never_crash(data: bytes, ext: str) -> None:
    try:
        result = load_bytes(data, f"random.{ext}" if ext else "random")
    except DataError as exc:
        assert exc.user_message.strip()
    else:
        assert result.frame.shape[1] > 0  # a table, not an empty frame passed off as one


@settings(max_examples=100, deadline=None, derandomize=True)
@given(
    text=st.text(alphabet=st.sampled_from(list(',;\t|"\n\r =+-@0123456789.aé\x00')), max_size=400)
)
def test_random_delimited_text_never_crashes(text: str) -> None:
    try:
        result = load_bytes(text.encode("utf-8"), "t.csv")
    except DataError as exc:
        assert exc.user_message.strip()
    else:
        assert len(set(result.frame.columns)) == result.frame.shape[1]  # names are unique
