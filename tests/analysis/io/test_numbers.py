"""Text columns of formatted numbers (currency, thousands separators, decimal commas,
percentages, accounting negatives), decided per column (statbot.analysis.io._numbers)."""

from __future__ import annotations

import io

import numpy as np
import openpyxl
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes

from statbot.analysis.io import load_bytes


def _eu(value: float) -> str:
    """1234.5 -> '1.234,50' (German style)."""
    return f"{value:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")


@pytest.fixture(scope="module")
def diabetes() -> pd.DataFrame:
    frame: pd.DataFrame = load_diabetes(as_frame=True, scaled=False).frame
    return frame


def test_currency_columns_of_a_real_data_set_read_as_numbers(diabetes: pd.DataFrame) -> None:
    cost = (diabetes["target"] * 37.25).round(2)
    share = (diabetes["bmi"] - 20).round(1)
    written = pd.DataFrame(
        {
            "age": diabetes["age"],
            "usd": [f"${v:,.2f}" for v in cost],
            "eur": [f"{_eu(v)} €" for v in cost],
            "eur_front": [f"€ {v:,.2f}".replace(",", " ").replace(".", ",") for v in cost],
            "balance": [f"({abs(v):,.0f})" if v < 0 else f"{v:,.0f}" for v in (cost - 5000)],
            "share": [f"{v}%" for v in share],
        }
    )
    data = written.to_csv(index=False, sep=";").encode()
    result = load_bytes(data, "diabetes.csv")
    frame = result.frame
    for column in ("usd", "eur", "eur_front"):
        assert frame[column].dtype == np.float64
        np.testing.assert_allclose(frame[column], cost, rtol=0, atol=1e-9)
    np.testing.assert_allclose(frame["balance"], (cost - 5000).round(0), atol=1e-9)
    assert (frame["balance"] < 0).sum() == (cost.round(0) < 5000).sum() > 0
    np.testing.assert_allclose(frame["share"], share, atol=1e-9)
    said = {c.split(":")[0]: c for c in result.conversions}
    assert said["usd"] == "usd: read as numbers, currency $ removed, thousands separator ','"
    assert said["eur"] == (
        "eur: read as numbers, currency € removed, thousands separator '.', decimal comma"
    )
    assert "thousands separator a space" in said["eur_front"]
    assert "(1,234) read as -1234" in said["balance"]
    assert "% removed (12% is read as 12)" in said["share"]
    assert "age" not in said  # plain numbers are not "converted"


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (["$1,234.50", "$99.00", "-$5"], [1234.5, 99.0, -5.0]),
        (["$-5", "$ 12", "$1,000,000"], [-5.0, 12.0, 1_000_000.0]),
        (["US$ 12", "US$1,000,000"], [12.0, 1_000_000.0]),
        (["1.234,5 €", "99,00 €"], [1234.5, 99.0]),
        (["€\u00a01\u00a0234,50", "€ 99"], [1234.5, 99.0]),  # no-break spaces
        (["1\u202f234,5", "7,25"], [1234.5, 7.25]),  # narrow no-break space (French)
        (["CHF 1'234.50", "CHF 12"], [1234.5, 12.0]),
        (["(1,234)", "2,000", "0"], [-1234.0, 2000.0, 0.0]),
        (["12.5%", "3%", "-0.5%"], [12.5, 3.0, -0.5]),
        (["1.234 €", "5.678 €"], [1234.0, 5678.0]),  # suffix euro: European grouping
        (["99.50 €", "5.678 €"], [99.5, 5.678]),  # ...unless a value proves the dot decimal
        (["1,5", "2,25", "1,234"], [1.5, 2.25, 1.234]),  # decimal commas never become 1234
        (["1,234", "5,678"], [1234.0, 5678.0]),  # the file's dot decimal decides
        (["$0.50", "$0", "$10"], [0.5, 0.0, 10.0]),
        (["−12 €", "3 €"], [-12.0, 3.0]),  # the Unicode minus sign
    ],
)
def test_one_convention_per_column(cells: list[str], expected: list[float]) -> None:
    data = "n,x\n" + "".join(f'{i},"{c}"\n' for i, c in enumerate(cells))
    result = load_bytes(data.encode(), "t.csv")
    assert result.frame["x"].tolist() == expected
    assert [c.split(":")[0] for c in result.conversions] == ["x"]


@pytest.mark.parametrize(
    "cells",
    [
        ["$1", "€2"],  # two currencies: not one unit
        ["$1", "US$2"],
        ["12%", "3"],  # a percent sign on some values only
        ["1,234.5", "1.234,5"],  # two decimal conventions
        ["1,234", "1 234"],  # two thousands separators (or a decimal comma nothing proves)
        ["0,123", "1,234"],  # no thousands group starts with 0; nothing proves a decimal comma
        ["01.02.2024", "03.04.2024"],  # dates
        ["1.2.3", "2.0.1"],  # versions
        ["192.168.1.1", "10.0.0.1"],  # addresses
        ["020 794 095", "031 234 567"],  # phone numbers with a leading zero
        ["(5", "6)"],  # unbalanced parentheses
        ["(-5)", "6"],  # a sign inside parentheses
        ["$", "€"],  # currency without a number
        ["12 apples", "3 pears"],
        ["1,23,456", "7"],  # Indian grouping is not one of the conventions read
        ["<script>alert(1)</script>", "$5"],
    ],
)
def test_columns_that_do_not_agree_stay_text(cells: list[str]) -> None:
    data = "n,x\n" + "".join(f'{i},"{c}"\n' for i, c in enumerate(cells))
    result = load_bytes(data.encode(), "t.csv")
    assert result.frame["x"].tolist() == cells
    assert result.conversions == []


def test_mixed_reading_where_only_one_convention_fits() -> None:
    """'0,123' reads only as a decimal comma (no number starts with a zero before a
    thousands separator), so the column is decimal commas and '1,234' is 1.234."""
    result = load_bytes('n;x\n1;"0,123 €"\n2;"1,234 €"\n'.encode(), "t.csv")
    assert result.frame["x"].tolist() == [0.123, 1.234]


def test_leading_zero_codes_keep_their_zeros() -> None:
    data = b"zip,id,n\n02134,007,1\n10001,120,2\n00501,999,3\n"
    result = load_bytes(data, "z.csv")
    assert result.frame["zip"].tolist() == ["02134", "10001", "00501"]
    assert result.frame["id"].tolist() == ["007", "120", "999"]
    assert result.frame["n"].tolist() == [1, 2, 3]
    assert any(c.startswith("zip: kept as text") for c in result.conversions)


def test_leading_zero_codes_in_a_big_file_keep_their_zeros() -> None:
    """Past the sniffed sample the reader types columns from the sample: the pin holds."""
    rows = "".join(f"{i:05d},{i}\n" for i in range(60_000))
    result = load_bytes(("code,n\n" + rows).encode(), "big.csv")
    assert result.frame["code"].iloc[[0, -1]].tolist() == ["00000", "59999"]


def test_missing_values_stay_missing() -> None:
    data = b'x,n\n"$1,000",1\n,2\nNA,3\n"$2,500.75",4\n'
    frame = load_bytes(data, "m.csv").frame
    assert frame["x"].isna().tolist() == [False, True, True, False]
    assert frame["x"].dropna().tolist() == [1000.0, 2500.75]


def test_excel_text_cells_beside_number_cells() -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (["item", "price"], ["a", "$1,234.50"], ["b", 12.5], ["c", "$7"]):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    result = load_bytes(out.getvalue(), "p.xlsx")
    assert result.frame["price"].tolist() == [1234.5, 12.5, 7.0]
    assert not any("mixes" in w for w in result.warnings)
    assert result.conversions == [
        "price: read as numbers, currency $ removed, thousands separator ','"
    ]


def test_a_long_text_column_is_ruled_out_from_its_first_values() -> None:
    words = [f"note {i}" for i in range(200_000)]
    data = ("x\n" + "\n".join(["$5", *words]) + "\n").encode()
    result = load_bytes(data, "t.csv")
    assert result.frame["x"].iloc[0] == "$5" and result.conversions == []
