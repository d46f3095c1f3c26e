"""Shared pieces of the formatting parsers: entity building with UTF-16 offsets, errors, trimming.

Entity offsets and lengths count UTF-16 code units, as in the Bot API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from statbot.sandbox.params import bad_request

Entity = dict[str, Any]


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_error(message: str) -> Exception:
    return bad_request(f"can't parse entities: {message}")


@dataclass
class Builder:
    """Collects output text and entities while a parser walks its input."""

    chars: list[str] = field(default_factory=list)
    pos: int = 0  # UTF-16 offset of the end of the output so far
    entities: list[Entity] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.chars.append(text)
        self.pos += utf16_len(text)

    def entity(self, kind: str, start: int, **extra: Any) -> None:
        if self.pos > start:
            self.entities.append(
                {"type": kind, "offset": start, "length": self.pos - start, **extra}
            )

    def result(self) -> tuple[str, list[Entity]]:
        ordered = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.chars), ordered


def byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def trim(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Telegram strips leading and trailing whitespace and keeps entities aligned."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    size = utf16_len(stripped)
    kept: list[Entity] = []
    for entity in entities:
        begin = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, size)
        if end > begin:
            kept.append({**entity, "offset": begin, "length": end - begin})
    return stripped, kept


_COMMAND = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_URL = re.compile(r"\bhttps?://[^\s<>\"]+")


def detect_entities(text: str) -> list[Entity]:
    """What Telegram's clients mark automatically in a user's text: commands and URLs."""
    found: list[Entity] = []
    for pattern, kind in ((_COMMAND, "bot_command"), (_URL, "url")):
        for match in pattern.finditer(text):
            found.append(
                {
                    "type": kind,
                    "offset": utf16_len(text[: match.start()]),
                    "length": utf16_len(match.group(0)),
                }
            )
    return sorted(found, key=lambda e: (e["offset"], -e["length"]))
