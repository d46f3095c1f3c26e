"""Loading files: sniffing, formats, limits, warnings, safe export (statbot.analysis.io)."""

from __future__ import annotations

import datetime as dt
import io
import logging
import math
import os
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from statbot.analysis.errors import EmptyData, LimitExceeded, UnreadableFile, UnsupportedFormat
from statbot.analysis.io import load_bytes, load_path, safe_csv_bytes
from statbot.analysis.io.limits import DataLimits


def _xlsx(rows: list[list[object]], extra_sheets: int = 0) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    for i in range(extra_sheets):
        book.create_sheet(f"more{i}")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_limit_message_names_limit_and_ratio() -> None:
    exc = LimitExceeded("max_rows", 1_000_000, 2_400_000, unit="rows")
    assert exc.user_message == "The file has 2,400,000 rows; the limit is 1,000,000 (2.4× over)."
    assert (exc.limit, exc.limit_value, exc.actual) == ("max_rows", 1_000_000, 2_400_000)


def test_limits_from_settings_match_defaults() -> None:
    from statbot.config import Settings

    assert DataLimits.from_settings(Settings()) == DataLimits()
    custom = DataLimits.from_settings(Settings(max_rows=7, max_cell_chars=9))
    assert (custom.max_rows, custom.max_cell_chars) == (7, 9)


def test_plain_csv_types() -> None:
    data = b"id,name,price,when,flag\n1,ann,2.5,2024-01-05,true\n2,bob,,2024-02-06,false\n"
    result = load_bytes(data, "shop.csv")
    frame = result.frame
    assert list(frame.columns) == ["id", "name", "price", "when", "flag"]
    assert frame["id"].dtype == "int64"
    assert frame["price"].dtype == "float64" and math.isnan(frame["price"][1])
    assert pd.api.types.is_datetime64_any_dtype(frame["when"])
    assert frame["flag"].dtype == "boolean"
    assert (result.format, result.delimiter, result.header, result.encoding) == (
        "csv",
        ",",
        True,
        "utf-8",
    )
    assert result.warnings == []


def test_semicolon_decimal_comma_cp1252() -> None:
    data = "prix;qté;ville\n1,5;2;Besançon\n2,75;3;Nîmes\n".encode("cp1252")
    result = load_bytes(data, "fr.csv")
    assert result.delimiter == ";" and result.decimal == ","
    assert result.frame["prix"].tolist() == [1.5, 2.75]
    assert result.frame["ville"].tolist() == ["Besançon", "Nîmes"]
    assert result.encoding == "cp1252"
    assert any("not UTF-8" in w for w in result.warnings)


def test_late_non_utf8_byte_switches_encoding() -> None:
    body = b"".join(b"%d,abc\n" % i for i in range(40_000))
    data = b"n,s\n" + body + "999,caf\u00e9\n".encode("cp1252")
    result = load_bytes(data, "late.csv")
    assert result.frame["s"].iloc[-1] == "café"
    assert any("Windows-1252" in w for w in result.warnings)


@pytest.mark.parametrize(
    ("data", "delimiter"),
    [(b"a\tb\n1\t2\n", "\t"), (b"a|b\n1|2\n", "|"), (b"a;b\n1;2\n", ";"), (b"a,b\n1,2\n", ",")],
)
def test_delimiters(data: bytes, delimiter: str) -> None:
    result = load_bytes(data, "x.txt")
    assert result.delimiter == delimiter
    assert result.frame.to_dict("list") == {"a": [1], "b": [2]}


def test_bom_and_utf16() -> None:
    bom = load_bytes(b"\xef\xbb\xbfa,b\n1,2\n", "bom.csv")
    assert list(bom.frame.columns) == ["a", "b"]
    utf16 = load_bytes("x;y\n1;é\n".encode("utf-16"), "w.csv")
    assert utf16.frame.to_dict("list") == {"x": [1], "y": ["é"]}


def test_headerless_numeric_file() -> None:
    result = load_bytes(b"1,2,3\n4,5,6\n7,8,9\n", "n.csv")
    assert result.header is False
    assert list(result.frame.columns) == ["column_1", "column_2", "column_3"]
    assert result.frame.shape == (3, 3)


def test_duplicate_and_formula_names_are_cleaned() -> None:
    data = b"a,a,=cmd|' /C calc'!A0,\n1,2,=1+2,x\n3,4,@SUM(A1),y\n"
    result = load_bytes(data, "evil.csv")
    assert list(result.frame.columns) == ["a", "a_2", "cmd|' /C calc'!A0", "column_4"]
    text = " ".join(result.warnings)
    assert "Duplicate column names" in text and "formula" in text and "no name" in text
    assert result.frame["cmd|' /C calc'!A0"].tolist() == ["=1+2", "@SUM(A1)"]


def test_thousands_separators_and_dates() -> None:
    data = (
        b"d,us,eu,amb\n"
        b'13/01/2024,"1,234.5",01/02/2024,01/02/2024\n'
        b'02/02/2024,"2,000",12/25/2024,03/04/2024\n'
    )
    result = load_bytes(data, "t.csv")
    frame = result.frame
    assert frame["us"].tolist() == [1234.5, 2000.0]
    assert frame["d"].tolist() == [pd.Timestamp("2024-01-13"), pd.Timestamp("2024-02-02")]
    assert frame["eu"].tolist() == [pd.Timestamp("2024-01-02"), pd.Timestamp("2024-12-25")]
    assert frame["amb"].tolist() == ["01/02/2024", "03/04/2024"]
    assert any("'amb'" in w and "day/month" in w for w in result.warnings)


def test_decimal_comma_with_thousands_dots() -> None:
    data = b"a;b\n1.234,5;x\n2,25;y\n"
    assert load_bytes(data, "eu.csv").frame["a"].tolist() == [1234.5, 2.25]


def test_few_ragged_rows_are_skipped_with_line_numbers() -> None:
    lines = [b"a,b"] + [b"%d,%d" % (i, i) for i in range(50)]
    lines.insert(10, b"1,2,3")
    result = load_bytes(b"\n".join(lines) + b"\n", "r.csv")
    assert result.frame.shape == (50, 2)
    assert any("1 row(s)" in w and "'1,2,3'" in w for w in result.warnings)


def test_mostly_ragged_rows_are_padded() -> None:
    result = load_bytes(b"a,b\n1\n2,3,4\n5\n", "r.csv")
    assert list(result.frame.columns) == ["a", "b", "column_3"]
    assert result.frame["a"].tolist() == [1, 2, 5]
    assert any("fewer fields" in w for w in result.warnings)


def test_quoted_newlines() -> None:
    rows = b"".join(b'%d,"line one\nline two"\n' % i for i in range(5))
    result = load_bytes(b"id,note\n" + rows, "q.csv")
    assert result.frame.shape == (5, 2)
    assert result.frame["note"][0] == "line one\nline two"


@pytest.mark.parametrize(
    ("limits", "data", "limit"),
    [
        (DataLimits(max_rows=3), b"a\n1\n2\n3\n4\n", "max_rows"),
        (DataLimits(max_columns=2), b"a,b,c\n1,2,3\n", "max_columns"),
        (DataLimits(max_cell_chars=5), b"a\nabcdefgh\n", "max_cell_chars"),
        (DataLimits(max_file_mb=0.00001), b"a\n" + b"1\n" * 100, "max_file_mb"),
    ],
)
def test_each_limit_is_enforced(limits: DataLimits, data: bytes, limit: str) -> None:
    with pytest.raises(LimitExceeded) as info:
        load_bytes(data, "x.csv", limits)
    assert info.value.limit == limit
    assert "the limit is" in info.value.user_message and "× over" in info.value.user_message


def test_cell_limit_names_column_and_row() -> None:
    with pytest.raises(LimitExceeded) as info:
        load_bytes(b"a,b\n1,x\n2," + b"y" * 50 + b"\n", "x.csv", DataLimits(max_cell_chars=10))
    assert "column 'b' (row 2) has 50 characters" in info.value.user_message


def test_empty_and_header_only() -> None:
    with pytest.raises(EmptyData):
        load_bytes(b"", "e.csv")
    with pytest.raises(EmptyData) as info:
        load_bytes(b"a,b,c\n", "h.csv")
    assert "a, b, c" in info.value.user_message


def test_excel_first_sheet_and_types() -> None:
    data = _xlsx(
        [["name", "x", "when", None], ["a", 1.5, dt.datetime(2024, 1, 2)], ["b", 2, None]],
        extra_sheets=1,
    )
    result = load_bytes(data, "book.xlsx")
    assert result.format == "excel" and result.sheet == "Sheet"
    assert list(result.frame.columns) == ["name", "x", "when"]
    assert result.frame["x"].tolist() == [1.5, 2.0]
    assert any("2 sheets" in w for w in result.warnings)


def test_excel_mixed_column_becomes_text() -> None:
    result = load_bytes(_xlsx([["v"], [1], ["two"]]), "m.xlsx")
    assert result.frame["v"].tolist() == ["1", "two"]
    assert any("mixes" in w for w in result.warnings)


def test_excel_named_csv_is_still_read_as_excel() -> None:
    result = load_bytes(_xlsx([["a"], [1]]), "actually.csv")
    assert result.format == "excel" and result.frame["a"].tolist() == [1]


def test_zip_bomb_refused_before_inflating() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (50 * 1024 * 1024))
    with pytest.raises(LimitExceeded) as info:
        load_bytes(buf.getvalue(), "bomb.xlsx")
    assert info.value.limit == "max_compression_ratio"
    assert "zip bomb" in info.value.user_message
    with pytest.raises(LimitExceeded) as info:
        load_bytes(buf.getvalue(), "bomb.xlsx", DataLimits(max_excel_uncompressed_mb=10))
    assert info.value.limit == "max_excel_uncompressed_mb"


def test_parquet_roundtrip_and_garbage() -> None:
    frame = pd.DataFrame({"a": [1.25, None], "s": ["x", "y"], "k": [1, 2]})
    buf = io.BytesIO()
    frame.to_parquet(buf)
    result = load_bytes(buf.getvalue(), "f.parquet")
    assert result.format == "parquet"
    assert result.frame["s"].tolist() == ["x", "y"] and result.frame["k"].tolist() == [1, 2]
    with pytest.raises(UnreadableFile):
        load_bytes(b"PAR1" + b"\x07" * 100 + b"PAR1", "bad.parquet")


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (b'[{"a":1,"b":{"c":2}},{"a":2,"b":{"c":3}}]', "r.json", {"a": [1, 2], "b.c": [2, 3]}),
        (b'{"a":[1,2],"b":["x","y"]}', "c.json", {"a": [1, 2], "b": ["x", "y"]}),
        (b'{"data":[{"a":1},{"a":2}]}', "d.json", {"a": [1, 2]}),
        (b'[["a","b"],[1,2],[3,4]]', "rows.json", {"a": [1, 3], "b": [2, 4]}),
        (b'{"a":1}\n{"a":2}\n', "l.jsonl", {"a": [1, 2]}),
        (b'{"a":1}\n{"a":2}\n', "l.json", {"a": [1, 2]}),
    ],
)
def test_json_shapes(data: bytes, name: str, expected: dict[str, list[object]]) -> None:
    assert load_bytes(data, name).frame.to_dict("list") == expected


def test_json_scalar_and_deep_nesting_are_data_errors() -> None:
    with pytest.raises(UnreadableFile) as info:
        load_bytes(b"42", "s.json")
    assert "single value" in info.value.user_message
    with pytest.raises(UnreadableFile) as info:
        load_bytes(b"[" * 200_000 + b"]" * 200_000, "deep.json")
    assert "nested too deeply" in info.value.user_message


def test_foreign_formats_refused() -> None:
    with pytest.raises(UnsupportedFormat, match="PDF"):
        load_bytes(b"%PDF-1.7 ...", "doc.csv")
    with pytest.raises(UnsupportedFormat, match="xls"):
        load_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "old.xls")


def test_load_path_matches_load_bytes(tmp_path: Path) -> None:
    data = b"a;b\n1,5;x\n2,5;y\n"
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    from_path, from_bytes = load_path(path), load_bytes(data, "f.csv")
    pd.testing.assert_frame_equal(from_path.frame, from_bytes.frame)
    assert from_path.content_hash == from_bytes.content_hash != ""
    with pytest.raises(UnreadableFile):
        load_path(tmp_path / "missing.csv")
    with pytest.raises(UnreadableFile) as info:
        load_path(tmp_path)
    assert "folder" in info.value.user_message
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    with pytest.raises(UnreadableFile) as info:
        load_path(fifo)
    assert "not a regular file" in info.value.user_message


def test_safe_csv_bytes_escapes_formulas_and_keeps_precision() -> None:
    frame = pd.DataFrame(
        {"=x": ["=1+1", "-y", "ok", "@a"], "f": [0.1 + 0.2, 1 / 3, -2.5, None], "n": [1, 2, 3, 4]}
    )
    text = safe_csv_bytes(frame).decode("utf-8")
    lines = text.splitlines()
    assert lines[0] == "'=x,f,n"
    assert lines[1] == "'=1+1,0.30000000000000004,1"
    assert lines[2] == "'-y,0.3333333333333333,2"
    assert lines[3] == "ok,-2.5,3"
    back = pd.read_csv(io.BytesIO(text.encode()))
    assert back["f"][1] == 1 / 3


@pytest.fixture
def streaming(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every file 'big' so the streaming reader (first-block types) is exercised."""
    from statbot.analysis.io import _csv as _io_csv

    monkeypatch.setattr(_io_csv, "STREAM_FROM", 1024)
    monkeypatch.setattr(_io_csv, "STREAM_BLOCK", 16 * 1024)


def test_streaming_reader_falls_back_when_a_late_value_changes_type(
    streaming: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="statbot.analysis.io._csv")
    rows = [b"%d,%d.5,x%d" % (i, i, i) for i in range(20_000)]
    rows.append(b"oops,not a number,y")
    result = load_bytes(b"n,f,s\n" + b"\n".join(rows) + b"\n", "big.csv")
    frame = result.frame
    assert frame.shape == (20_001, 3)
    assert frame["n"].iloc[-1] == "oops" and frame["n"].iloc[0] == "0"
    assert frame["f"].iloc[-1] == "not a number"
    assert "types did not fit" in caplog.text


def test_streaming_reader_keeps_types_and_counts_ragged_rows(
    streaming: None, tmp_path: Path
) -> None:
    rows = [b"%d,%d.25,2024-01-%02d" % (i, i, 1 + i % 28) for i in range(20_000)]
    rows.insert(15_000, b"1,2")
    path = tmp_path / "big.csv"
    path.write_bytes(b"n,f,d\n" + b"\n".join(rows) + b"\n")
    result = load_path(path)
    frame = result.frame
    assert frame.shape == (20_000, 3)
    assert frame["n"].dtype == "int64" and frame["f"].dtype == "float64"
    assert pd.api.types.is_datetime64_any_dtype(frame["d"])
    assert frame["f"].sum() == sum(i + 0.25 for i in range(20_000))
    assert any("1 row(s)" in w for w in result.warnings)


def test_streaming_reader_late_legacy_byte(streaming: None) -> None:
    rows = [b"%d,plain" % i for i in range(20_000)] + ["1,caf\u00e9".encode("cp1252")]
    result = load_bytes(b"n,s\n" + b"\n".join(rows) + b"\n", "late.csv")
    assert result.frame["s"].iloc[-1] == "café"
    assert result.encoding == "cp1252"


def test_nul_past_the_sample_is_removed_everywhere(tmp_path: Path) -> None:
    data = b"n,s\n" + b"".join(b"%d,v%d\n" % (i, i) for i in range(40_000)) + b"7\x00,x\x00y\n"
    path = tmp_path / "nul.csv"
    path.write_bytes(data)
    for result in (load_bytes(data, "nul.csv"), load_path(path)):
        assert result.frame["n"].iloc[-1] == 7 and result.frame["n"].dtype == "int64"
        assert result.frame["s"].iloc[-1] == "xy"
        assert any("NUL" in w for w in result.warnings)


def test_json_lines_arrow_and_python_paths_agree() -> None:
    data = (
        b'{"a":1,"b":{"c":2.5,"d":{"e":1}},"l":[1,2],"s":"x","t":"2024-01-05"}\n'
        b'{"a":2,"b":{"c":null,"d":{"e":3}},"l":[],"s":"=1","t":"2024-01-06"}\n'
    )
    arrow = load_bytes(data, "x.jsonl")  # pyarrow's JSON reader
    python = load_bytes(data, "x.json")  # json.loads per line
    pd.testing.assert_frame_equal(arrow.frame, python.frame, check_dtype=False)
    assert arrow.frame["b.d"].tolist() == ['{"e": 1}', '{"e": 3}']
    assert pd.api.types.is_datetime64_any_dtype(arrow.frame["t"])
    mixed = load_bytes(b'{"a":1}\n{"a":"x"}\n', "m.jsonl")  # pyarrow refuses; Python reads it
    assert mixed.frame["a"].tolist() == ["1", "x"]


def test_importing_the_loader_stays_light() -> None:
    """Workflows import these modules at start; pandas and pyarrow load only on first use."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import statbot.analysis, statbot.analysis.io, statbot.analysis.io.schema\n"
        "import statbot.analysis.io.datasets, statbot.analysis.io.limits, statbot.analysis.errors\n"
        "print(sorted(m for m in ('pandas', 'pyarrow', 'numpy', 'openpyxl') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("threads", [True, False])
def test_same_frame_with_and_without_threads(
    threads: bool, monkeypatch: pytest.MonkeyPatch, streaming: None
) -> None:
    from statbot.analysis.io import _csv as _io_csv

    data = b"n,s,d\n" + b"".join(
        b"%d,v%d,2024-02-%02d\n" % (i, i % 7, 1 + i % 28) for i in range(30_000)
    )
    monkeypatch.setattr(_io_csv, "USE_THREADS", None)
    auto = load_bytes(data, "t.csv").frame
    monkeypatch.setattr(_io_csv, "USE_THREADS", threads)
    forced = load_bytes(data, "t.csv").frame
    pd.testing.assert_frame_equal(auto, forced)
    assert forced.shape == (30_000, 3) and forced["n"].sum() == sum(range(30_000))


@pytest.mark.parametrize(
    ("data", "expected", "skipped"),
    [
        (b"Report 2024\n\nGenerated by X\na,b\n1,2\n3,4\n", {"a": [1, 3], "b": [2, 4]}, 2),
        (
            b"Sales;;\nregion;q1;q2\nN;1,5;2\nS;3;4,25\n",
            {"region": ["N", "S"], "q1": [1.5, 3.0], "q2": [2.0, 4.25]},
            1,
        ),
        (b"title\r\na\tb\r\n1\t2\r\n3\t4\r\n", {"a": [1, 3], "b": [2, 4]}, 1),
    ],
)
def test_title_lines_above_the_table_are_skipped(
    data: bytes, expected: dict[str, list[object]], skipped: int, tmp_path: Path
) -> None:
    path = tmp_path / "report.csv"
    path.write_bytes(data)
    for result in (load_bytes(data, "report.csv"), load_path(path)):
        assert result.frame.to_dict("list") == expected
        assert any(f"Skipped {skipped} line(s) above the table" in w for w in result.warnings)


def test_first_data_row_with_blanks_is_not_a_header_or_a_title() -> None:
    result = load_bytes(b"5;;\n1;2;3\n4;5;6\n", "n.csv")
    assert result.header is False
    assert result.frame["column_1"].tolist() == [5, 1, 4]
    assert not any("Skipped" in w for w in result.warnings)


def _unreadable_file(tmp_path: Path) -> Path:
    """A regular file this process may not read: root reads any chmod-000 file, but not a
    write-only procfs entry."""
    if os.geteuid() == 0:
        return Path("/proc/sys/vm/drop_caches")
    path = tmp_path / "secret.csv"
    path.write_text("a,b\n1,2\n")
    path.chmod(0)
    return path


def test_an_unreadable_file_says_permission_denied(tmp_path: Path) -> None:
    path = _unreadable_file(tmp_path)
    with pytest.raises(UnreadableFile) as info:
        load_path(path)
    message = info.value.user_message
    assert message.startswith("Permission denied") and path.name in message
    assert "could not be opened" not in message
