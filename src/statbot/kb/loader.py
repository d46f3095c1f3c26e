"""Reading the entry folder and checking the rules that span files (issue 13).

The folder ships inside the package (``statbot/kb/entries``, package data in pyproject), so a
wheel install has the same entries as a checkout. Every problem of every file is collected and
raised together as one :class:`~statbot.kb.errors.KbError`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from statbot.kb.entry import Entry, parse_entry
from statbot.kb.errors import KbError
from statbot.kb.render import MESSAGE_LIMIT, entry_text, utf16_len

SUFFIX = ".md"
log = logging.getLogger(__name__)


def default_folder() -> Traversable:
    """The entries that ship with statbot."""
    return resources.files("statbot.kb") / "entries"


def load_entries(folder: Path | Traversable | None = None, *, strict: bool = True) -> list[Entry]:
    """Every entry of ``folder`` (default: the shipped ones), sorted by id.

    ``strict`` (the tests, ``statbot kb check``): raise :class:`KbError` listing every broken
    rule. Otherwise (the running bot) an entry that breaks the format is left out and a related
    id that names no entry is dropped, each logged once: one bad file must not take the whole
    knowledge base, or the bot, down with it."""
    entries, problems = read_entries(folder)
    if problems and strict:
        raise KbError(problems)
    for problem in problems:
        log.warning("knowledge base: %s", problem)
    ids = {e.id for e in entries}
    return [
        e
        if all(r in ids for r in e.related)
        else replace(e, related=tuple(r for r in e.related if r in ids))
        for e in entries
    ]


def read_entries(folder: Path | Traversable | None = None) -> tuple[list[Entry], list[str]]:
    """The entries that parse, and every rule broken by any file or across files."""
    root = default_folder() if folder is None else folder
    files = sorted(
        (f for f in root.iterdir() if f.is_file() and f.name.endswith(SUFFIX)),
        key=lambda f: f.name,
    )
    entries: list[Entry] = []
    problems: list[str] = []
    for file in files:
        stem = file.name[: -len(SUFFIX)]
        entry, broken = parse_entry(file.read_text(encoding="utf-8"), stem)
        problems += [f"{file.name}: {rule}" for rule in broken]
        if entry is not None:
            entries.append(entry)
    problems += check_links(entries)
    return entries, problems


def check_links(entries: Iterable[Entry]) -> list[str]:
    """Rules across entries: related ids resolve, titles are unique, and each entry fits one
    Telegram message."""
    entries = list(entries)
    ids = {e.id for e in entries}
    problems: list[str] = []
    titles: dict[str, str] = {}
    for entry in entries:
        name = f"{entry.id}{SUFFIX}"
        problems += [
            f"{name}: related id {rid!r} names no entry" for rid in entry.related if rid not in ids
        ]
        key = entry.title.casefold()
        if key in titles:
            problems.append(f"{name}: title {entry.title!r} is also {titles[key]}{SUFFIX}'s")
        titles[key] = entry.id
        size = utf16_len(entry_text(entry))
        if size > MESSAGE_LIMIT:
            problems.append(
                f"{name}: renders to {size} characters; one message holds {MESSAGE_LIMIT}"
            )
    return problems
