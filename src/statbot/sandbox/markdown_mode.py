"""Telegram's MarkdownV2 and legacy Markdown formatting modes.

See https://core.telegram.org/bots/api#markdownv2-style: outside entities, the characters
``_*[]()~`>#+-=|{}.!`` must be escaped with a backslash, else Telegram refuses the message.
"""

from __future__ import annotations

import re

from statbot.sandbox.entities import Builder, Entity, byte_offset, parse_error

_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")

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
    out = Builder()
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
            stack.append((delim, out.pos, byte_offset(text, i)))
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
        raise parse_error(f"Can't find end of {name} entity at byte offset {byte}")
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
    return parse_error(f"Character '{ch}' is reserved and must be escaped with the preceding '\\'")


_LEGACY = re.compile(
    r"\*([^*]*)\*|_([^_]*)_|```(?:([\w+-]+)\n)?(.*?)```|`([^`]*)`|\[([^\]]*)\]\(([^)]*)\)", re.S
)


def parse_markdown(text: str) -> tuple[str, list[Entity]]:
    """The legacy ``Markdown`` mode: *bold*, _italic_, `code`, ```pre```, [text](url)."""
    out = Builder()
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
            byte = byte_offset(text, i + rest.index(marker))
            raise parse_error(f"Can't find end of the entity starting at byte offset {byte}")
    out.add(rest)
    return out.result()
