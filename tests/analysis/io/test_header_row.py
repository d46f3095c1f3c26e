"""Title rows above the header, detected in .xlsx and CSV, and the header row a user names
(``load_bytes(..., header_row=N)``; the chat's "header is row N", the CLI's --header-row)."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import statsmodels.api as sm

from statbot.analysis.errors import HeaderRowError
from statbot.analysis.io import load_bytes, load_path


@pytest.fixture(scope="module")
def fair() -> pd.DataFrame:
    frame: pd.DataFrame = sm.datasets.fair.load_pandas().data.head(300)
    return frame


def _workbook(rows: list[list[object]], *, merge: bool = True) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    if merge:
        sheet.merge_cells("A1:D1")  # a title spread over the table, as reports have it
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _report(frame: pd.DataFrame) -> list[list[object]]:
    return [
        ["Fair's affairs survey (1974)"],
        ["Source: Redbook magazine, via statsmodels"],
        [],
        list(frame.columns),
        *frame.to_numpy().tolist(),
    ]


def test_title_rows_of_a_workbook_are_skipped(fair: pd.DataFrame) -> None:
    result = load_bytes(_workbook(_report(fair)), "fair.xlsx")
    assert list(result.frame.columns) == list(fair.columns)
    pd.testing.assert_frame_equal(result.frame, fair.reset_index(drop=True), check_dtype=False)
    assert result.header_row == 4
    assert any(
        "Skipped 2 row(s) above the table" in w and "the column names are in row 4" in w
        for w in result.warnings
    )


def test_title_rows_of_a_csv_are_skipped(fair: pd.DataFrame, tmp_path: Path) -> None:
    text = "Fair's affairs survey (1974)\nSource: Redbook\n\n" + fair.to_csv(index=False)
    path = tmp_path / "fair.csv"
    path.write_text(text)
    result = load_path(path)
    assert result.header_row == 4 and list(result.frame.columns) == list(fair.columns)
    assert result.rows == len(fair)


def test_the_user_names_the_header_row_of_a_workbook(fair: pd.DataFrame) -> None:
    rows = _report(fair)
    rows.insert(3, ["units:", *["-"] * (fair.shape[1] - 1)])  # a full row: looks like a header
    data = _workbook(rows)
    guessed = load_bytes(data, "fair.xlsx")
    assert guessed.header_row == 4 and "units:" in guessed.frame.columns
    chosen = load_bytes(data, "fair.xlsx", header_row=5)
    assert chosen.header_row == 5 and list(chosen.frame.columns) == list(fair.columns)
    assert chosen.rows == len(fair)
    assert not any("Skipped" in w for w in chosen.warnings)


def test_the_user_names_the_header_row_of_a_csv() -> None:
    data = b"Quarterly sales\nunits:,EUR,EUR\nregion,q1,q2\nN,1,2\nS,3,4\n"
    chosen = load_bytes(data, "q.csv", header_row=3)
    assert chosen.frame.to_dict("list") == {"region": ["N", "S"], "q1": [1, 3], "q2": [2, 4]}
    assert chosen.header_row == 3
    none = load_bytes(b"1,2\n3,4\n", "n.csv", header_row=0)
    assert list(none.frame.columns) == ["column_1", "column_2"] and none.header_row is None


def test_no_header_in_a_workbook() -> None:
    data = _workbook([["a", "b"], ["c", "d"]], merge=False)
    result = load_bytes(data, "x.xlsx", header_row=0)
    assert result.frame.to_dict("list") == {"column_1": ["a", "c"], "column_2": ["b", "d"]}


@pytest.mark.parametrize(
    ("name", "data", "row", "message"),
    [
        ("q.csv", b"title\n\na,b\n1,2\n", 2, "Row 2 of the file is empty"),
        ("q.csv", b"a,b\n1,2\n", 9, "The file has 2 rows; pick a row between 1 and 2."),
        ("q.xlsx", None, 3, "Row 3 of the sheet is empty"),
        ("q.xlsx", None, 40, "The sheet has 5 rows; pick a row between 1 and 5."),
    ],
)
def test_a_header_row_that_is_not_there_is_refused_in_words(
    name: str, data: bytes | None, row: int, message: str
) -> None:
    raw = data if data is not None else _workbook([["T"], [], [], ["a", "b"], [1, 2]])
    with pytest.raises(HeaderRowError) as caught:
        load_bytes(raw, name, header_row=row)
    assert caught.value.user_message.startswith(message)


def test_a_header_row_for_parquet_is_ignored_with_a_note(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pd.DataFrame({"a": [1, 2]}).to_parquet(path)
    result = load_path(path, header_row=3)
    assert list(result.frame.columns) == ["a"]
    assert any("header row you chose was not used" in w for w in result.warnings)


def test_hostile_header_names_survive_as_plain_text() -> None:
    data = _workbook(
        [["<b>Report</b>"], ["<script>alert(1)</script>", "@cmd|' /C calc'!A0"], [1, 2], [3, 4]]
    )
    result = load_bytes(data, "h.xlsx")
    assert list(result.frame.columns) == ["<script>alert(1)</script>", "cmd|' /C calc'!A0"]


def test_peek_rows_numbers_the_rows_as_header_row_counts(
    fair: pd.DataFrame, tmp_path: Path
) -> None:
    # the rows the chat offers to pick the header from: numbered as header_row= counts them
    # (blank rows counted, not shown), so the pick reads the names that were shown
    from statbot.analysis.io import peek_rows
    from statbot.analysis.io.limits import DataLimits

    workbook = tmp_path / "fair.xlsx"
    workbook.write_bytes(_workbook(_report(fair)))
    rows = peek_rows(workbook, DataLimits(), 4)
    assert [n for n, _ in rows] == [1, 2, 4, 5]
    number, names = rows[2]
    assert names == [str(c) for c in fair.columns]
    picked = load_path(workbook, header_row=number)
    assert list(picked.frame.columns) == names and picked.rows == len(fair)
    text = tmp_path / "fair.csv"
    text.write_text("Fair's affairs\n\n" + fair.head(20).to_csv(index=False))
    rows = peek_rows(text, DataLimits(), 3)
    assert [n for n, _ in rows] == [1, 3, 4] and rows[1][1] == [str(c) for c in fair.columns]
    assert list(load_path(text, header_row=3).frame.columns) == rows[1][1]
    parquet = tmp_path / "fair.parquet"
    fair.head(5).to_parquet(parquet)
    assert peek_rows(parquet, DataLimits()) == []  # it names its columns itself
