"""Every shipped entry (src/statbot/kb/entries/): the format, Telegram's limits, and that search
finds it by its title and by each of its tags. Runs over whatever entries are there."""

from __future__ import annotations

from pathlib import Path

import pytest

from statbot.kb import KnowledgeBase
from statbot.kb.entry import KINDS, MAX_SHORT
from statbot.kb.loader import read_entries
from statbot.kb.render import MESSAGE_LIMIT, entry_text, utf16_len

ENTRIES, PROBLEMS = read_entries()
IDS = [e.id for e in ENTRIES]


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return KnowledgeBase(ENTRIES)


def test_there_are_entries_and_each_file_keeps_the_format() -> None:
    assert ENTRIES, "no entries shipped"
    assert not [p for p in PROBLEMS if "names no entry" not in p], PROBLEMS


def test_every_related_link_resolves() -> None:
    assert not [p for p in PROBLEMS if "names no entry" in p]
    ids = set(IDS)
    assert all(set(e.related) <= ids and e.id not in e.related for e in ENTRIES)


def test_every_id_issue_13_fixed_ships() -> None:
    planned = {
        line.strip()
        for line in (Path(__file__).parent / "planned_ids.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert planned - set(IDS) == set()
    assert len(IDS) >= 150


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_each_entry_fits_one_telegram_message(entry) -> None:  # type: ignore[no-untyped-def]
    assert entry.kind in KINDS and len(entry.short) <= MAX_SHORT
    assert utf16_len(entry_text(entry)) <= MESSAGE_LIMIT
    assert 2 <= len(entry.related) <= 6, entry.related


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_search_finds_each_entry_by_its_title_first(kb: KnowledgeBase, entry) -> None:  # type: ignore[no-untyped-def]
    assert [h.entry.id for h in kb.search(entry.title, limit=1)] == [entry.id]


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_search_finds_each_entry_by_each_of_its_tags(kb: KnowledgeBase, entry) -> None:  # type: ignore[no-untyped-def]
    for tag in entry.tags:
        carrying = sum(tag in e.tags for e in ENTRIES)
        top = [h.entry.id for h in kb.search(tag, limit=max(3, carrying))]
        assert entry.id in top, (tag, carrying, top)


@pytest.mark.parametrize(
    ("symbol", "expected"),
    [("ρ", "spearman-correlation"), ("η²", "eta-squared"), ("α", "significance-level"),
     ("τ", "kendall-tau"), ("what does β mean?", "type-ii-error")],
)  # fmt: skip
def test_greek_symbols_find_the_entry_that_spells_them(
    kb: KnowledgeBase, symbol: str, expected: str
) -> None:
    """The symbols the results print (ρ, τ, η²) are searchable: the tokenizer keeps only a-z
    and 0-9, so a query's Greek letters are spelled out as the entries' aliases spell them."""
    assert expected in [hit.entry.id for hit in kb.search(symbol)[:3]]
