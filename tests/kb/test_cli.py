"""``statbot kb search|get|stats|check`` on fixture entries (the same index as the chat)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.kb.fixtures import SMALL, entry_file, write_entries
from typer.testing import CliRunner

from statbot.cli import app
from statbot.kb import ReadCounts, read_key


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return write_entries(tmp_path / "entries", SMALL)


def run(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, ["kb", *args], env=env)


def test_search_lists_ids_best_first_and_as_json(folder: Path) -> None:
    result = run("search", "what is the anova?", "--entries", str(folder))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].split() == ["1.", "one-way-anova", "One-way", "ANOVA"]
    result = run("search", "cramers v", "--limit", "2", "--json", "--entries", str(folder))
    data = json.loads(result.stdout)
    assert data["results"][0] == {"id": "cramers-v", "title": "Cramér's V", "kind": "metric"}
    assert len(data["results"]) <= 2
    nothing = run("search", "zzzz", "--entries", str(folder))
    assert nothing.exit_code == 1 and "Nothing matches 'zzzz'" in nothing.output


def test_get_prints_the_entry_plainly_or_as_json(folder: Path) -> None:
    result = run("get", "one-way-anova", "--entries", str(folder))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("One-way ANOVA (test)\n\nCompares the means")
    assert "Try it: /stats" in result.stdout and "Related: p-value, cramers-v" in result.stdout
    data = json.loads(run("get", "p-value", "--json", "--entries", str(folder)).stdout)
    assert data["aliases"] == ["p value", "significance probability"]
    missing = run("get", "cramer", "--entries", str(folder))
    assert missing.exit_code == 2 and "Closest: cramers-v" in missing.output


def test_stats_shows_the_chats_read_counts(folder: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    reads = ReadCounts.in_data_dir(data_dir)
    reads.record("p-value", read_key("a"))
    reads.close()
    env = {"STATBOT_DATA_DIR": str(data_dir)}
    result = run("stats", "--entries", str(folder), env=env)
    assert result.exit_code == 0, result.output
    assert "The knowledge base has 7 entries" in result.stdout
    assert "Most read: p-value (1 read)." in result.stdout
    data = json.loads(run("stats", "--json", "--entries", str(folder), env=env).stdout)
    assert data["by_kind"]["metric"] == 2 and data["most_read"] == [{"id": "p-value", "reads": 1}]


def test_check_lists_every_broken_rule(folder: Path) -> None:
    assert run("check", "--entries", str(folder)).stdout.strip() == "7 entries, all valid."
    (folder / "bad.md").write_text(entry_file("bad", kind="x"), encoding="utf-8")
    result = run("check", "--entries", str(folder))
    assert result.exit_code == 1 and "bad.md: kind 'x' is not one of" in result.output
