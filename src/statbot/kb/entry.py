"""One knowledge-base entry ("atom"): a text file with TOML front matter and a long body.

The format is fixed by issue 13 (``src/statbot/kb/entries/<id>.md``)::

    +++
    id = "p-value"
    title = "p-value"
    kind = "concept"
    tags = ["inference"]
    aliases = ["p value"]
    related = ["significance-level", "null-hypothesis"]
    command = "/stats"
    short = \"\"\"The chance of ...\"\"\"
    +++
    The long body, in the bot's neutral markup.

:func:`parse_entry` checks what one file can say about itself (fields, types, the id against
the file name, the kind, the short answer's length); the rules across files (related ids
resolve, titles are unique, the rendered entry fits one message) live in
:mod:`statbot.kb.loader`.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from typing import Any

KINDS = ("concept", "test", "model", "metric", "procedure", "pitfall")
MAX_SHORT = 600
ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
FENCE = "+++"

_REQUIRED_TEXT = ("id", "title", "kind", "short")
_LISTS = ("tags", "aliases", "related")
_KNOWN = frozenset({*_REQUIRED_TEXT, *_LISTS, "command"})


@dataclass(frozen=True, slots=True)
class Entry:
    """An entry as the index, the chat and the CLI see it (texts stripped)."""

    id: str
    title: str
    kind: str
    tags: tuple[str, ...]
    aliases: tuple[str, ...]
    related: tuple[str, ...]
    command: str
    short: str
    body: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (``statbot kb get --json``)."""
        return {
            "id": self.id,
            "title": self.title,
            "kind": self.kind,
            "tags": list(self.tags),
            "aliases": list(self.aliases),
            "related": list(self.related),
            "command": self.command,
            "short": self.short,
            "body": self.body,
        }


def split_front_matter(text: str) -> tuple[str, str] | None:
    """(TOML, body) of a file that opens with a ``+++`` line and closes it with another."""
    lines = text.lstrip("\ufeff").splitlines(keepends=True)
    if not lines or lines[0].strip() != FENCE:
        return None
    for index in range(1, len(lines)):
        if lines[index].strip() == FENCE:
            return "".join(lines[1:index]), "".join(lines[index + 1 :])
    return None


def parse_entry(text: str, stem: str) -> tuple[Entry | None, list[str]]:
    """The entry in ``text`` (the file ``<stem>.md``), or None and the rules it breaks."""
    parts = split_front_matter(text)
    if parts is None:
        return None, ["the file must start with a '+++' line and close the front matter with one"]
    head, body = parts
    try:
        meta = tomllib.loads(head)
    except tomllib.TOMLDecodeError as exc:
        return None, [f"front matter is not valid TOML: {exc}"]
    problems = _check_fields(meta, stem)
    if problems:
        return None, problems
    entry = Entry(
        id=meta["id"],
        title=meta["title"].strip(),
        kind=meta["kind"],
        tags=tuple(t.strip() for t in meta.get("tags", [])),
        aliases=tuple(a.strip() for a in meta.get("aliases", [])),
        related=tuple(meta.get("related", [])),
        command=str(meta.get("command", "")).strip(),
        short=meta["short"].strip(),
        body=body.strip(),
    )
    problems = _check_entry(entry)
    return (None, problems) if problems else (entry, [])


def _check_fields(meta: dict[str, Any], stem: str) -> list[str]:
    problems = [f"unknown field {name!r}" for name in sorted(set(meta) - _KNOWN)]
    for name in _REQUIRED_TEXT:
        value = meta.get(name)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{name!r} must be a non-empty string")
    for name in _LISTS:
        value = meta.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            problems.append(f"{name!r} must be a list of non-empty strings")
    if "command" in meta and not isinstance(meta["command"], str):
        problems.append("'command' must be a string")
    if isinstance(meta.get("id"), str) and meta["id"] != stem:
        problems.append(f"id {meta['id']!r} differs from the file name {stem!r}")
    return problems


def _check_entry(entry: Entry) -> list[str]:
    problems = []
    if not ID_PATTERN.match(entry.id):
        problems.append(f"id {entry.id!r} must be lower-case letters, digits and hyphens")
    if entry.kind not in KINDS:
        problems.append(f"kind {entry.kind!r} is not one of {', '.join(KINDS)}")
    if len(entry.short) > MAX_SHORT:
        problems.append(f"'short' has {len(entry.short)} characters; at most {MAX_SHORT}")
    if entry.id in entry.related:
        problems.append("an entry must not list itself in 'related'")
    if len(set(entry.related)) != len(entry.related):
        problems.append("'related' lists an id twice")
    if not entry.body:
        problems.append("the body after the front matter is empty")
    return problems
