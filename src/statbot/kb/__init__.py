"""The statistics knowledge base (issue 13): entries as text files, an FTS5 index, search.

Entries live in ``statbot/kb/entries/<id>.md`` (TOML front matter and a body; see
:mod:`statbot.kb.entry`). :class:`KnowledgeBase` loads and indexes them; :class:`ReadCounts`
keeps how often each was read; :mod:`statbot.kb.measures` maps the measures a result shows to
the entries that explain them. The room imports no engine, workflow or channel: the chat
(``workflows/kb.py``) and the CLI (``cli/kb.py``) build on it.
"""

from __future__ import annotations

from statbot.kb.entry import KINDS, Entry
from statbot.kb.errors import KbError
from statbot.kb.index import Hit, KnowledgeBase
from statbot.kb.loader import load_entries
from statbot.kb.reads import ReadCounts, read_key

__all__ = [
    "KINDS",
    "Entry",
    "Hit",
    "KbError",
    "KnowledgeBase",
    "ReadCounts",
    "load_entries",
    "read_key",
]
