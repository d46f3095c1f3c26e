"""The entry format of issue 13, as the loader enforces it (on fixture entries)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.kb.fixtures import SMALL, entry_file, write_entries

from statbot.kb import KbError, KnowledgeBase, load_entries
from statbot.kb.render import MESSAGE_LIMIT, entry_text


def test_a_valid_folder_loads_every_entry_with_its_fields(tmp_path: Path) -> None:
    entries = load_entries(write_entries(tmp_path, SMALL))
    assert [e.id for e in entries] == sorted(SMALL)
    anova = next(e for e in entries if e.id == "one-way-anova")
    assert (anova.title, anova.kind, anova.command) == ("One-way ANOVA", "test", "/stats")
    assert anova.tags == ("group comparison", "hypothesis testing")
    assert anova.body.startswith("Splits the spread")


@pytest.mark.parametrize(
    ("fields", "rule"),
    [
        ({"kind": "opinion"}, "kind 'opinion' is not one of"),
        ({"id": "other"}, "differs from the file name"),
        ({"short": "x" * 601}, "'short' has 601 characters; at most 600"),
        ({"related": ["broken"]}, "an entry must not list itself"),
        ({"related": ["nowhere"]}, "related id 'nowhere' names no entry"),
        ({"tags": "inference"}, "'tags' must be a list"),
        ({"title": ""}, "'title' must be a non-empty string"),
        ({"alias": ["x"]}, "unknown field 'alias'"),
        ({"title": "p-value"}, "title 'p-value' is also"),
        ({"body": "word " * 900}, f"one message holds {MESSAGE_LIMIT}"),
    ],
)
def test_each_broken_rule_is_named_with_its_file(tmp_path: Path, fields: dict, rule: str) -> None:
    folder = write_entries(tmp_path, SMALL)
    (folder / "broken.md").write_text(entry_file("broken", **fields), encoding="utf-8")
    with pytest.raises(KbError) as raised:
        load_entries(folder)
    assert any("broken.md" in p and rule in p for p in raised.value.problems), raised.value.problems


def test_front_matter_must_be_fenced_and_valid_toml(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text('id = "a"\n', encoding="utf-8")
    (tmp_path / "b.md").write_text('+++\nid = "b\n+++\nbody\n', encoding="utf-8")
    with pytest.raises(KbError) as raised:
        load_entries(tmp_path)
    problems = "\n".join(raised.value.problems)
    assert "a.md: the file must start with a '+++' line" in problems
    assert "b.md: front matter is not valid TOML" in problems


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    folder = write_entries(
        tmp_path, {"a": {"kind": "x", "related": ["a"]}, "b": {"short": "y" * 700}}
    )
    with pytest.raises(KbError) as raised:
        load_entries(folder)
    assert len(raised.value.problems) == 3, raised.value.problems


def test_the_running_bot_keeps_the_good_entries_and_drops_dangling_links(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = write_entries(tmp_path, {**SMALL, "bad": {"kind": "x"}})
    (folder / "p-value.md").write_text(
        entry_file("p-value", related=["null-hypothesis", "not-written-yet"]), encoding="utf-8"
    )
    kb = KnowledgeBase.load(folder)
    assert "bad" not in kb.entries and len(kb.entries) == len(SMALL)
    assert kb.entries["p-value"].related == ("null-hypothesis",)
    assert "not-written-yet" in caplog.text and "bad.md" in caplog.text


def test_bold_in_markdown_style_becomes_the_bots_markup(tmp_path: Path) -> None:
    folder = write_entries(tmp_path, {"a": {"body": "**What it is.** A thing; `code` stays."}})
    text = entry_text(load_entries(folder)[0])
    assert "*What it is.* A thing; `code` stays." in text and "**" not in text
