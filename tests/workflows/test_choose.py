from __future__ import annotations

from statbot.engine.replies import Option
from statbot.workflows.choose import NoMatch, resolve_many, resolve_one

COLS = [Option(c, c) for c in ("price", "city", "zip_code", "rooms", "built_year")]
MODELS = [
    Option("rf", "Random forest"),
    Option("logistic", "Logistic regression"),
    Option("auto", "auto"),
]


def ids(result: list[Option] | NoMatch) -> list[str]:
    assert not isinstance(result, NoMatch), result
    return [o.id for o in result]


def test_one_by_number_name_label_and_prefix() -> None:
    assert resolve_one("2", COLS) == COLS[1]
    assert resolve_one("  Zip Code ", COLS) == COLS[2]
    assert resolve_one("random forest", MODELS) == MODELS[0]
    assert resolve_one("logis", MODELS) == MODELS[1]


def test_one_suggests_closest() -> None:
    miss = resolve_one("prise", COLS, "column")
    assert isinstance(miss, NoMatch) and miss.suggestion == "price"
    assert "Did you mean 'price'" in miss.message
    out_of_range = resolve_one("9", COLS)
    assert isinstance(out_of_range, NoMatch) and "1–5" in out_of_range.message


def test_many() -> None:
    assert ids(resolve_many("all", COLS)) == [c.id for c in COLS]
    assert ids(resolve_many("all except price, zip code", COLS)) == ["city", "rooms", "built_year"]
    assert ids(resolve_many("rooms and city; rooms", COLS)) == ["rooms", "city"]
    assert ids(resolve_many("none", COLS)) == []
    miss = resolve_many("all except cty", COLS)
    assert isinstance(miss, NoMatch) and miss.suggestion == "city"
