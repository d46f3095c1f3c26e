"""Pure rendering helpers: neutral markup → Telegram HTML, keyboards, progress bars.

Callback data (Telegram allows ≤ 64 bytes) is tiny and positional: ``o:<index>`` picks the
option at that index of the menu stored for the message, ``p:<page>`` turns a page, ``d:`` is
Done in a multi-select, ``n:`` a no-op (page counter). The option ids themselves (column names can
be long) never travel in callback data.
"""

from __future__ import annotations

import html
import math
import re

from statbot.engine.replies import Option, Reply

MAX_TEXT = 4096  # Telegram's limit for one message, in UTF-16 code units (we stay below it)
MAX_CAPTION = 1024
MAX_BUTTON_LABEL = 40
_MARKUP = re.compile(r"`([^`]+)`|\*([^*\n]+)\*")

Keyboard = list[list[dict[str, str]]]


def to_html(text: str) -> str:
    """``*bold*`` and `` `code` `` to HTML; everything else escaped."""
    out: list[str] = []
    pos = 0
    for match in _MARKUP.finditer(text):
        out.append(html.escape(text[pos : match.start()], quote=False))
        code, bold = match.group(1), match.group(2)
        if code is not None and "\n" in code:
            # A table (e.g. the schema) keeps its columns aligned in a monospace block.
            out.append(f"<pre>{html.escape(code.strip(chr(10)), quote=False)}</pre>")
        elif code is not None:
            out.append(f"<code>{html.escape(code, quote=False)}</code>")
        else:
            out.append(f"<b>{html.escape(bold, quote=False)}</b>")
        pos = match.end()
    out.append(html.escape(text[pos:], quote=False))
    return "".join(out)


def to_plain(text: str) -> str:
    return _MARKUP.sub(lambda m: m.group(1) or m.group(2), text)


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an astral emoji counts 2)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def fit_utf16(text: str, limit: int) -> tuple[str, str]:
    """Split ``text`` into its longest prefix of at most ``limit`` UTF-16 units and the rest."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return text[:index], text[index:]
    return text, ""


def split_text(text: str, limit: int = MAX_TEXT - 96) -> list[str]:
    """Split long text on line boundaries so each part fits one message (``limit`` in UTF-16
    units, as Telegram measures)."""
    if utf16_len(text) <= limit:
        return [text]
    parts: list[str] = []
    current, used = "", 0
    for raw_line in text.splitlines(keepends=True):
        line = raw_line
        while utf16_len(line) > limit:
            if current:
                parts.append(current)
                current, used = "", 0
            head, line = fit_utf16(line, limit)
            parts.append(head)
        size = utf16_len(line)
        if used + size > limit:
            parts.append(current)
            current, used = "", 0
        current += line
        used += size
    if current:
        parts.append(current)
    return parts


def _label(option: Option, ticked: bool | None) -> str:
    label = option.label if len(option.label) <= MAX_BUTTON_LABEL else option.label[:39] + "…"
    if ticked is None:
        return label
    return ("✅ " if ticked else "⬜ ") + label


def page_count(reply: Reply) -> int:
    return max(1, math.ceil(len(reply.options) / max(1, reply.page_size)))


def keyboard(reply: Reply, page: int = 0, selected: tuple[str, ...] | None = None) -> Keyboard:
    """Inline keyboard for a CHOICES reply: one page of options, a nav row, Done for multi."""
    chosen = set(reply.selected if selected is None else selected)
    pages = page_count(reply)
    page = min(max(page, 0), pages - 1)
    start = page * reply.page_size
    rows: Keyboard = []
    shown = list(enumerate(reply.options))[start : start + reply.page_size]
    # Short labels pair up two per row; long ones get a row each.
    row: list[dict[str, str]] = []
    for index, option in shown:
        button = {
            "text": _label(option, option.id in chosen if reply.multi else None),
            "callback_data": f"o:{index}",
        }
        if len(option.label) > 16:
            if row:
                rows.append(row)
                row = []
            rows.append([button])
            continue
        row.append(button)
        if len(row) == 2:
            rows.append(row)
            row = []
    if row:
        rows.append(row)
    if pages > 1:
        nav = []
        if page > 0:
            nav.append({"text": "◀ Prev", "callback_data": f"p:{page - 1}"})
        nav.append({"text": f"{page + 1}/{pages}", "callback_data": "n:"})
        if page < pages - 1:
            nav.append({"text": "Next ▶", "callback_data": f"p:{page + 1}"})
        rows.append(nav)
    if reply.multi:
        rows.append([{"text": f"Done ({len(chosen)} selected)", "callback_data": "d:"}])
    return rows


def progress_text(fraction: float, text: str, width: int = 12) -> str:
    filled = round(max(0.0, min(1.0, fraction)) * width)
    bar = "█" * filled + "░" * (width - filled)
    return f"{bar} {round(fraction * 100):d}%\n{html.escape(text, quote=False)}"
