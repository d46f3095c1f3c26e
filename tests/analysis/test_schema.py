"""Schema inference, rendering, overrides, the typed spec grammar and validation."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from statbot.analysis.errors import SchemaMismatch, SchemaSpecError
from statbot.analysis.io import load_bytes
from statbot.analysis.io.schema import (
    Schema,
    SchemaSpec,
    apply_overrides,
    infer_schema,
    parse_schema_spec,
    render_schema,
    validate_against,
)


@pytest.fixture
def frame() -> pd.DataFrame:
    n = 100
    return pd.DataFrame(
        {
            "customer_id": np.arange(1000, 1000 + n) * 7,
            "row": np.arange(n),
            "price": np.linspace(0.5, 10.0, n),
            "city": ["Lima", "Oslo", "Pune", None] * (n // 4),
            "note": [f"bought {i} items today" for i in range(n)],
            "flag": ["yes", "no"] * (n // 2),
            "zip": [10_000 + i % 7 for i in range(n)],
            "when": pd.date_range("2020-01-01", periods=n),
            "empty": [None] * n,
            "sku": [f"SKU-{i:05d}" for i in range(n)],
            "paid": [True, False] * (n // 2),
            "count": [float(i % 5) if i % 10 else np.nan for i in range(n)],
        }
    )


def test_kinds_missing_and_levels(frame: pd.DataFrame) -> None:
    schema = infer_schema(frame)
    kinds = {c.name: c.kind for c in schema.columns}
    assert kinds == {
        "customer_id": "identifier",
        "row": "identifier",
        "price": "numeric",
        "city": "categorical",
        "note": "text",
        "flag": "boolean",
        "zip": "integer",
        "when": "datetime",
        "empty": "empty",
        "sku": "identifier",
        "paid": "boolean",
        "count": "integer",
    }
    city = next(c for c in schema.columns if c.name == "city")
    assert city.missing == 25 and city.unique == 3
    assert city.levels == {"Lima": 25, "Oslo": 25, "Pune": 25}
    assert schema.rows == 100
    assert next(c for c in schema.columns if c.name == "count").missing == 10


def test_many_levels_are_text_not_categories() -> None:
    n = 20_000
    frame = pd.DataFrame(
        {
            "note": [f"w{i % 500}" for i in range(n)],  # 500 levels, 2.5% of the rows
            "grade": [f"g{i % 150}" for i in range(n)],
        }
    )
    kinds = {c.name: c.kind for c in infer_schema(frame).columns}
    assert kinds == {"note": "text", "grade": "categorical"}


def test_schema_is_json_roundtrip(frame: pd.DataFrame) -> None:
    schema = infer_schema(frame)
    data = json.loads(json.dumps(schema.to_dict()))
    assert Schema.from_dict(data) == schema
    assert schema.kind_of("price") == "numeric"


def test_render_fits_a_phone(frame: pd.DataFrame) -> None:
    text = render_schema(infer_schema(frame))
    lines = text.splitlines()
    assert lines[0] == "100 rows × 12 columns"
    assert max(len(line) for line in lines) <= 34
    assert any(
        line.startswith("city") and "cat(3)" in line and line.endswith("25") for line in lines
    )
    long = pd.DataFrame({"a_really_long_column_name_here": [1, 2]})
    assert "a_really_long…" in render_schema(infer_schema(long))


def test_schema_of_loaded_csv() -> None:
    data = b"id,group,value,day\n" + b"".join(
        b"%d,%s,%d.5,2024-01-%02d\n" % (i, b"ab"[i % 2 : i % 2 + 1], i, 1 + i % 28)
        for i in range(60)
    )
    schema = infer_schema(load_bytes(data, "x.csv").frame)
    assert [c.kind for c in schema.columns] == ["identifier", "categorical", "numeric", "datetime"]


def test_apply_overrides(frame: pd.DataFrame) -> None:
    out = apply_overrides(frame, {"zip": "category", "note": "ignore", "flag": "bool"})
    assert isinstance(out["zip"].dtype, pd.CategoricalDtype)
    assert "note" not in out.columns and "note" in frame.columns
    assert out["flag"].tolist()[:2] == [True, False]
    assert infer_schema(out).kind_of("zip") == "categorical"
    as_text = apply_overrides(frame, {"zip": "text"})
    assert as_text["zip"][0] == "10000"


def test_overrides_report_every_problem(frame: pd.DataFrame) -> None:
    with pytest.raises(SchemaMismatch) as info:
        apply_overrides(frame, {"note": "float", "prise": "float", "city": "blob"})
    problems = info.value.problems
    assert len(problems) == 3
    assert "100 value(s) that are not numbers" in problems[0] and "bought 0" in problems[0]
    assert "did you mean 'price'" in problems[1]
    assert "'blob' is not a type" in problems[2]
    assert info.value.user_message.startswith("The data does not match the schema:")


def test_parse_spec_canonicalises_and_roundtrips() -> None:
    spec = parse_schema_spec(
        'price:float, city:category; date:datetime\nid:ignore, "unit, eur":num'
    )
    assert spec.columns == (
        ("price", "float"),
        ("city", "category"),
        ("date", "datetime"),
        ("id", "ignore"),
        ("unit, eur", "float"),
    )
    assert parse_schema_spec(str(spec)) == spec
    assert isinstance(spec, SchemaSpec) and spec.as_dict()["city"] == "category"


@pytest.mark.parametrize(
    ("spec", "position", "words"),
    [
        ("price:flaot, city:category", 6, "Unknown type 'flaot' (did you mean 'float'?)"),
        ("price float", 5, "Missing ':' between 'price' and 'float'"),
        ("a:int, a:int", 7, "listed twice"),
        ("a:int, :int", 7, "Expected a column name"),
        ("a:", 2, "has no type"),
        ('"open:int', 0, "never closed"),
        ("   ", 0, "empty"),
        ("price", 5, "needs a type"),
    ],
)
def test_spec_errors_point_at_the_token(spec: str, position: int, words: str) -> None:
    with pytest.raises(SchemaSpecError) as info:
        parse_schema_spec(spec)
    err = info.value
    assert err.position == position
    assert words in err.user_message
    lines = err.user_message.splitlines()
    assert lines[1] == f"  {spec}" and lines[2] == "  " + " " * position + "^"
    assert lines[3].startswith("Allowed types: float, integer")


def test_validate_against_casts_and_orders() -> None:
    later = pd.DataFrame(
        {"extra": [1, 2], "when": ["13/01/2024", "14/01/2024"], "price": ["1.5", "2"], "id": [1, 2]}
    )
    out = validate_against(later, parse_schema_spec("price:float, when:datetime, id:ignore"))
    assert list(out.columns) == ["price", "when", "extra"]
    assert out["price"].tolist() == [1.5, 2.0]
    assert out["when"].tolist() == [pd.Timestamp("2024-01-13"), pd.Timestamp("2024-01-14")]


def test_validate_against_reports_in_words() -> None:
    later = pd.DataFrame(
        {"Price": ["1.5", "x", "y"], "n": ["1", "2.5", None], "ok": ["y", "n", "?"]}
    )
    spec = parse_schema_spec("price:float, n:int, ok:bool, when:date")
    with pytest.raises(SchemaMismatch) as info:
        validate_against(later, spec)
    assert info.value.problems == [
        "Column 'price' is missing (did you mean 'Price'?).",
        "Column 'n' has 1 value(s) that are not whole numbers (e.g. '2.5' in data row 2).",
        "Column 'ok' has 1 value(s) that are not yes/no (true/false) values "
        "(e.g. '?' in data row 3).",
        "Column 'when' is missing.",
    ]


def test_whole_number_codes_stored_as_floats_become_whole_levels() -> None:
    """statsmodels' fair data keeps occupation as 1.0 … 6.0: as a category its levels read
    "1" … "6" (the group table said "1.0 … 6.0"); fractional values keep their floats."""
    frame = pd.DataFrame({"occupation": [1.0, 2.0, None, 6.0], "score": [1.5, 2.0, 2.5, 3.0]})
    out = apply_overrides(frame, {"occupation": "category", "score": "category"})
    assert [str(c) for c in out["occupation"].cat.categories] == ["1", "2", "6"]
    assert out["occupation"].isna().sum() == 1
    assert [str(c) for c in out["score"].cat.categories] == ["1.5", "2.0", "2.5", "3.0"]
