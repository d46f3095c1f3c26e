"""Telegram's formatting modes: HTML / MarkdownV2 / Markdown markup → plain text + entities.

Error texts follow the Bot API's ("can't parse entities: Unsupported start tag "br" at byte
offset 3" and friends), so a bot that Telegram would reject is rejected here too (see
https://core.telegram.org/bots/api#formatting-options).
"""

from __future__ import annotations

from statbot.sandbox.entities import Entity, detect_entities, trim, utf16_len
from statbot.sandbox.html_mode import parse_html
from statbot.sandbox.markdown_mode import parse_markdown, parse_markdown_v2
from statbot.sandbox.params import bad_request

__all__ = ["Entity", "detect_entities", "parse_text", "trim", "utf16_len"]


def parse_text(text: str, parse_mode: str | None) -> tuple[str, list[Entity]]:
    """Apply ``parse_mode`` (case-insensitive, as Telegram) and trim surrounding whitespace."""
    mode = (parse_mode or "").strip().lower()
    if mode == "html":
        plain, entities = parse_html(text)
    elif mode == "markdownv2":
        plain, entities = parse_markdown_v2(text)
    elif mode == "markdown":
        plain, entities = parse_markdown(text)
    elif mode == "":
        plain, entities = text, []
    else:
        raise bad_request("unsupported parse_mode")
    return trim(plain, entities)
