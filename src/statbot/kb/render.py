"""Entries as the bot says them, in the neutral markup of :mod:`statbot.engine.replies`.

Entry files may write ``**bold**`` (the habit of anyone who writes Markdown); the bot's markup
is ``*bold*``, so it is converted here, once, for the chat and the CLI alike.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from statbot.kb.entry import KINDS, Entry

# Telegram allows 4096 UTF-16 units a message; the renderer splits longer texts at 4000
# (channels/telegram/render.split_text), so an entry must stay under that to arrive whole.
MESSAGE_LIMIT = 4000
_DOUBLE_BOLD = re.compile(r"\*\*([^*\n]+)\*\*")


def markup(text: str) -> str:
    """``**bold**`` → ``*bold*``; everything else is already the bot's markup."""
    return _DOUBLE_BOLD.sub(r"*\1*", text)


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (an astral character counts 2)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def command_line(entry: Entry) -> str:
    if not entry.command:
        return ""
    return f"Try it: `{entry.command}`"


def entry_text(entry: Entry) -> str:
    """The whole entry as one message: title and kind, the short answer, the body, and the
    command that does it. Related entries go out as buttons, not text."""
    parts = [f"*{markup(entry.title)}* ({entry.kind})", markup(entry.short)]
    parts.append(markup(entry.body))
    if entry.command:
        parts.append(command_line(entry))
    return "\n\n".join(parts)


def short_text(entry: Entry) -> str:
    """Title and short answer: what "What does this mean?" shows for each measure."""
    return f"*{markup(entry.title)}* — {markup(entry.short)}"


def label(entry: Entry) -> str:
    """A button's label (the channel shortens long ones)."""
    return entry.title


def stats_text(
    kinds: Mapping[str, int],
    tags: Sequence[tuple[str, int]],
    most_read: Sequence[tuple[Entry, int]],
    total: int,
    *,
    tags_shown: int = 15,
) -> str:
    """/kb_stats and ``statbot kb stats``: entries by kind and by tag, the most read."""
    by_kind = ", ".join(
        f"{kinds[k]} {k}{'s' if kinds[k] != 1 else ''}" for k in KINDS if kinds.get(k)
    )
    lines = [f"The knowledge base has {total} entries: {by_kind}."]
    if tags:
        shown = ", ".join(f"{tag} {n}" for tag, n in tags[:tags_shown])
        more = f" (and {len(tags) - tags_shown} more tags)" if len(tags) > tags_shown else ""
        lines.append(f"Tags with most entries: {shown}{more}.")
    if most_read:
        reads = ", ".join(f"{e.title} ({n} read{'s' if n != 1 else ''})" for e, n in most_read)
        lines.append(f"Most read: {reads}.")
    else:
        lines.append("No entry has been read yet.")
    return "\n".join(lines)
