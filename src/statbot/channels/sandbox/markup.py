"""Telegram's formatting modes: HTML / MarkdownV2 / Markdown markup → plain text + entities.

Entity offsets and lengths count UTF-16 code units, as in the Bot API. Error texts follow the
Bot API's ("can't parse entities: Unsupported start tag "br" at byte offset 3" and friends), so a
bot that would be rejected by Telegram is rejected here too (see
https://core.telegram.org/bots/api#formatting-options).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from statbot.channels.sandbox.params import bad_request

Entity = dict[str, Any]

_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_CHAR_REF = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|lt|gt|amp|quot);")
_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _parse_error(message: str) -> Exception:
    return bad_request(f"can't parse entities: {message}")


@dataclass
class _Builder:
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


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _decode_char_ref(match: re.Match[str]) -> str:
    ref = match.group(1)
    if ref in _NAMED:
        return _NAMED[ref]
    code = int(ref[2:], 16) if ref[1] in "xX" else int(ref[1:])
    return chr(code) if 0 < code <= 0x10FFFF else "\ufffd"


def parse_html(text: str) -> tuple[str, list[Entity]]:
    out = _Builder()
    stack: list[tuple[str, int, dict[str, str]]] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "&":
            match = _CHAR_REF.match(text, i)
            if match:
                out.add(_decode_char_ref(match))
                i = match.end()
                continue
            out.add(ch)
            i += 1
            continue
        if ch != "<":
            out.add(ch)
            i += 1
            continue
        begin = i
        if i + 1 < n and text[i + 1] == "/":
            end = text.find(">", i)
            if end < 0:
                raise _parse_error(f"Unclosed end tag at byte offset {_byte_offset(text, begin)}")
            name = text[i + 2 : end].strip().lower()
            if not stack:
                raise _parse_error(f"Unexpected end tag at byte offset {_byte_offset(text, begin)}")
            tag, start, attrs = stack.pop()
            if name != tag:
                raise _parse_error(
                    f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, "
                    f'expected "</{tag}>", found "</{name}>"'
                )
            _close_html(out, tag, start, attrs, stack)
            i = end + 1
            continue
        i += 1
        name_start = i
        while i < n and not text[i].isspace() and text[i] not in ">/":
            i += 1
        tag = text[name_start:i].lower()
        if tag not in _HTML_TAGS:
            raise _parse_error(
                f'Unsupported start tag "{tag}" at byte offset {_byte_offset(text, begin)}'
            )
        attrs, i = _html_attributes(text, i, tag, begin)
        if tag == "span" and attrs.get("class") != "tg-spoiler":
            raise _parse_error(
                'Tag "span" must have class "tg-spoiler" at byte offset '
                f"{_byte_offset(text, begin)}"
            )
        stack.append((tag, out.pos, attrs))
    if stack:
        raise _parse_error(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return out.result()


def _html_attributes(text: str, i: int, tag: str, begin: int) -> tuple[dict[str, str], int]:
    attrs: dict[str, str] = {}
    n = len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            raise _parse_error(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
        if text[i] == ">":
            return attrs, i + 1
        attr_start = i
        while i < n and (text[i].isalnum() or text[i] in "-_"):
            i += 1
        attr = text[attr_start:i].lower()
        if not attr:
            raise _parse_error(
                f'Empty attribute name in the tag "{tag}" at byte offset '
                f"{_byte_offset(text, begin)}"
            )
        while i < n and text[i].isspace():
            i += 1
        if i < n and text[i] != "=":
            attrs[attr] = ""  # a bare attribute such as <blockquote expandable>
            continue
        i += 1
        while i < n and text[i].isspace():
            i += 1
        if i < n and text[i] in "'\"":
            quote = text[i]
            close = text.find(quote, i + 1)
            if close < 0:
                raise _parse_error(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
            value = text[i + 1 : close]
            i = close + 1
        else:
            value_start = i
            while i < n and not text[i].isspace() and text[i] != ">":
                i += 1
            value = text[value_start:i]
        attrs[attr] = _CHAR_REF.sub(_decode_char_ref, value)


def _close_html(
    out: _Builder,
    tag: str,
    start: int,
    attrs: dict[str, str],
    stack: list[tuple[str, int, dict[str, str]]],
) -> None:
    kind = _HTML_TAGS[tag]
    if kind == "text_link":
        href = attrs.get("href", "")
        if href:
            out.entity("text_link", start, url=href)
    elif kind == "code" and stack and stack[-1][0] == "pre":
        language = attrs.get("class", "")
        if language.startswith("language-"):
            stack[-1][2]["language"] = language.removeprefix("language-")
        else:
            out.entity("code", start)
    elif kind == "pre":
        extra = {"language": attrs["language"]} if attrs.get("language") else {}
        out.entity("pre", start, **extra)
    elif kind == "blockquote":
        out.entity("expandable_blockquote" if "expandable" in attrs else "blockquote", start)
    elif kind == "custom_emoji":
        out.entity("custom_emoji", start, custom_emoji_id=attrs.get("emoji-id", ""))
    else:
        out.entity(kind, start)


_MDV2_KINDS = {
    "*": "bold",
    "_": "italic",
    "__": "underline",
    "~": "strikethrough",
    "||": "spoiler",
    "`": "code",
    "```": "pre",
    "[": "text_link",
}


def parse_markdown_v2(text: str) -> tuple[str, list[Entity]]:
    out = _Builder()
    stack: list[tuple[str, int, int]] = []  # (delimiter, output offset, input byte offset)
    quote_start: int | None = None
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        top = stack[-1][0] if stack else ""
        if ch == "\\" and i + 1 < n and 0 < ord(text[i + 1]) < 127:
            out.add(text[i + 1])
            i += 2
            continue
        if top in ("`", "```"):
            if text.startswith(top, i):
                _delim, start, _b = stack.pop()
                out.entity(_MDV2_KINDS[top], start)
                i += len(top)
            else:
                out.add(ch)
                i += 1
            continue
        at_line_start = i == 0 or text[i - 1] == "\n"
        if ch == ">" and at_line_start:
            if quote_start is None:
                quote_start = out.pos
            i += 1
            continue
        if ch == "\n" and quote_start is not None and not text.startswith(">", i + 1):
            out.entity("blockquote", quote_start)
            quote_start = None
        if ch not in _MDV2_RESERVED and ch != "|":
            out.add(ch)
            i += 1
            continue
        delim = ch
        if ch == "_" and text.startswith("__", i) and top != "_":
            delim = "__"
        elif ch == "|":
            if not text.startswith("||", i):
                raise _reserved(ch)
            delim = "||"
        elif ch == "`" and text.startswith("```", i):
            delim = "```"
        if delim == top and delim != "[":
            _delim, start, _b = stack.pop()
            out.entity(_MDV2_KINDS[delim], start)
            i += len(delim)
            continue
        if ch == "]" and top == "[":
            _delim, start, _b = stack.pop()
            i += 1
            if i < n and text[i] == "(":
                url, i = _mdv2_url(text, i + 1)
                out.entity("text_link", start, url=url)
            continue
        if delim in _MDV2_KINDS:
            stack.append((delim, out.pos, _byte_offset(text, i)))
            i += len(delim)
            if delim == "```":
                newline = text.find("\n", i)
                first = text[i:newline] if newline >= 0 else ""
                if newline >= 0 and first and " " not in first:
                    i = newline + 1  # the language line, as in ```python
            continue
        raise _reserved(ch)
    if quote_start is not None:
        out.entity("blockquote", quote_start)
    if stack:
        delim, _start, byte = stack[-1]
        name = _MDV2_KINDS[delim].replace("_", " ").title().replace(" ", "")
        raise _parse_error(f"Can't find end of {name} entity at byte offset {byte}")
    return out.result()


def _mdv2_url(text: str, i: int) -> tuple[str, int]:
    chars: list[str] = []
    while i < len(text) and text[i] != ")":
        if text[i] == "\\" and i + 1 < len(text):
            i += 1
        chars.append(text[i])
        i += 1
    return "".join(chars), i + 1


def _reserved(ch: str) -> Exception:
    return _parse_error(f"Character '{ch}' is reserved and must be escaped with the preceding '\\'")


_LEGACY = re.compile(
    r"\*([^*]*)\*|_([^_]*)_|```(?:([\w+-]+)\n)?(.*?)```|`([^`]*)`|\[([^\]]*)\]\(([^)]*)\)", re.S
)


def parse_markdown(text: str) -> tuple[str, list[Entity]]:
    """The legacy ``Markdown`` mode: *bold*, _italic_, `code`, ```pre```, [text](url)."""
    out = _Builder()
    i = 0
    for match in _LEGACY.finditer(text):
        out.add(text[i : match.start()])
        start = out.pos
        if match.group(1) is not None:
            out.add(match.group(1))
            out.entity("bold", start)
        elif match.group(2) is not None:
            out.add(match.group(2))
            out.entity("italic", start)
        elif match.group(4) is not None:
            out.add(match.group(4))
            out.entity("pre", start, **({"language": match.group(3)} if match.group(3) else {}))
        elif match.group(5) is not None:
            out.add(match.group(5))
            out.entity("code", start)
        else:
            out.add(match.group(6))
            out.entity("text_link", start, url=match.group(7))
        i = match.end()
    rest = text[i:]
    for marker in ("*", "_", "`", "["):
        if marker in rest:
            byte = _byte_offset(text, i + rest.index(marker))
            raise _parse_error(f"Can't find end of the entity starting at byte offset {byte}")
    out.add(rest)
    return out.result()


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
