"""Telegram's HTML formatting mode (https://core.telegram.org/bots/api#html-style)."""

from __future__ import annotations

import re

from statbot.sandbox.entities import Builder, Entity, byte_offset, parse_error

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


def _decode_char_ref(match: re.Match[str]) -> str:
    ref = match.group(1)
    if ref in _NAMED:
        return _NAMED[ref]
    code = int(ref[2:], 16) if ref[1] in "xX" else int(ref[1:])
    return chr(code) if 0 < code <= 0x10FFFF else "\ufffd"


def parse_html(text: str) -> tuple[str, list[Entity]]:
    out = Builder()
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
                raise parse_error(f"Unclosed end tag at byte offset {byte_offset(text, begin)}")
            name = text[i + 2 : end].strip().lower()
            if not stack:
                raise parse_error(f"Unexpected end tag at byte offset {byte_offset(text, begin)}")
            tag, start, attrs = stack.pop()
            if name != tag:
                raise parse_error(
                    f"Unmatched end tag at byte offset {byte_offset(text, begin)}, "
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
            raise parse_error(
                f'Unsupported start tag "{tag}" at byte offset {byte_offset(text, begin)}'
            )
        attrs, i = _html_attributes(text, i, tag, begin)
        if tag == "span" and attrs.get("class") != "tg-spoiler":
            raise parse_error(
                f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset(text, begin)}'
            )
        stack.append((tag, out.pos, attrs))
    if stack:
        raise parse_error(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return out.result()


def _html_attributes(text: str, i: int, tag: str, begin: int) -> tuple[dict[str, str], int]:
    attrs: dict[str, str] = {}
    n = len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            raise parse_error(f"Unclosed start tag at byte offset {byte_offset(text, begin)}")
        if text[i] == ">":
            return attrs, i + 1
        attr_start = i
        while i < n and (text[i].isalnum() or text[i] in "-_"):
            i += 1
        attr = text[attr_start:i].lower()
        if not attr:
            raise parse_error(
                f'Empty attribute name in the tag "{tag}" at byte offset {byte_offset(text, begin)}'
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
                raise parse_error(f"Unclosed start tag at byte offset {byte_offset(text, begin)}")
            value = text[i + 1 : close]
            i = close + 1
        else:
            value_start = i
            while i < n and not text[i].isspace() and text[i] != ">":
                i += 1
            value = text[value_start:i]
        attrs[attr] = _CHAR_REF.sub(_decode_char_ref, value)


def _close_html(
    out: Builder,
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
