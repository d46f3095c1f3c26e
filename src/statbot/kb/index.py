"""The search index: entries in an in-memory SQLite FTS5 table, ranked by BM25.

Columns are weighted so that a word in an entry's title counts most, then its other names
(aliases and id), its tags, its short answer, and least its long body (``WEIGHTS``). Before
BM25 a query is read as a question (:func:`statbot.kb.words.subject_words`), widened with
synonyms, prefixes and typo corrections (:mod:`statbot.kb.typos`), and the words are OR-ed so
that a question that also says something the entries do not still finds what it names.
Ranking then puts entries the query names outright first: its id or title, then one of its
aliases, then one of its tags (so "hypothesis testing" lists every entry tagged so before
entries that merely mention it).
"""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from statbot.kb import words as W
from statbot.kb.entry import KINDS, Entry
from statbot.kb.typos import Vocabulary

# bm25() weights for (id, title, names, tags, short, body); id is unindexed.
WEIGHTS = (0.0, 10.0, 8.0, 4.0, 2.0, 1.0)
_TIER_TITLE, _TIER_ALIAS, _TIER_TAG, _TIER_TEXT = 0, 1, 2, 3
_SCHEMA = (
    "CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, title, names, tags, short, body, "
    "tokenize = 'porter unicode61 remove_diacritics 2')"
)


@dataclass(frozen=True, slots=True)
class Hit:
    entry: Entry
    score: float  # BM25 (lower is better), after the tiers below


def _quote(term: Sequence[str]) -> str:
    return '"' + " ".join(term).replace('"', '""') + '"'


class KnowledgeBase:
    """Entries by id and the index over them. Built once (``from_entries``), read-only after;
    queries are serialised by a lock so one instance can serve the event loop and threads."""

    def __init__(self, entries: Sequence[Entry]) -> None:
        self.entries = {e.id: e for e in entries}
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._lock = threading.Lock()
        self._db.execute(_SCHEMA)
        self._db.executemany(
            "INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    e.id,
                    e.title,
                    " ; ".join((*e.aliases, e.id.replace("-", " "))),
                    " ; ".join(e.tags),
                    e.short,
                    e.body,
                )
                for e in entries
            ],
        )
        self.vocabulary = Vocabulary(
            W.words(" ".join((e.id, e.title, *e.aliases, *e.tags, e.short, e.body)))
            for e in entries
        )
        self._titles = {W.key(e.title): e.id for e in entries} | {
            W.key(e.id): e.id for e in entries
        }
        self._aliases: dict[str, set[str]] = {}
        self._tags: dict[str, set[str]] = {}
        for e in entries:
            for alias in e.aliases:
                self._aliases.setdefault(W.key(alias), set()).add(e.id)
            for tag in e.tags:
                self._tags.setdefault(W.key(tag), set()).add(e.id)

    @classmethod
    def load(cls, folder: Path | None = None, *, strict: bool = False) -> KnowledgeBase:
        """The shipped entries (or those of ``folder``), validated and indexed; ``strict``
        as in :func:`statbot.kb.loader.load_entries`."""
        from statbot.kb.loader import load_entries

        return cls(load_entries(folder, strict=strict))

    def close(self) -> None:
        self._db.close()

    # reading -----------------------------------------------------------------------------
    def get(self, entry_id: str) -> Entry | None:
        return self.entries.get(entry_id.strip().lower())

    def by_kind(self) -> dict[str, int]:
        counts = Counter(e.kind for e in self.entries.values())
        return {kind: counts[kind] for kind in KINDS if counts[kind]}

    def by_tag(self) -> list[tuple[str, int]]:
        """Tags with how many entries carry each, most first (ties by name)."""
        counts = Counter(tag for e in self.entries.values() for tag in e.tags)
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))

    # searching ---------------------------------------------------------------------------
    def match_expression(self, query: str) -> str:
        """The FTS5 query a text becomes ("" when it names nothing searchable)."""
        tokens = W.subject_words(query)
        terms: list[str] = []
        last = len(tokens) - 1
        for index, token in enumerate(tokens):
            known = token in self.vocabulary
            if known:
                terms.append(_quote([token]))
            if index == last and len(token) >= 2 and self.vocabulary.has_prefix(token):
                terms.append(_quote([token]) + "*")  # still being typed
            elif not known and len(token) >= 3 and self.vocabulary.has_prefix(token):
                terms.append(_quote([token]) + "*")
            elif not known:
                fixes = self.vocabulary.corrections(token)
                terms += [_quote([fix]) for fix in fixes] or [_quote([token])]
        terms += [_quote(phrase) for phrase in W.synonyms_in(W.words(query))]
        return " OR ".join(dict.fromkeys(terms))

    def search(self, query: str, limit: int = 10) -> list[Hit]:
        """The best ``limit`` entries for ``query``, best first."""
        expression = self.match_expression(query)
        if not expression:
            return []
        with self._lock:
            rows = self._db.execute(
                f"SELECT id, bm25(docs, {', '.join(map(str, WEIGHTS))}) FROM docs "
                "WHERE docs MATCH ? ORDER BY 2 LIMIT 200",
                (expression,),
            ).fetchall()
        named = W.key(query)
        tiers = self._tiers(named)
        ranked = sorted(rows, key=lambda row: (tiers.get(row[0], _TIER_TEXT), row[1]))
        return [Hit(self.entries[i], float(score)) for i, score in ranked[:limit]]

    def _tiers(self, named: str) -> dict[str, int]:
        tiers: dict[str, int] = {}
        for entry_id in self._tags.get(named, ()):
            tiers[entry_id] = _TIER_TAG
        for entry_id in self._aliases.get(named, ()):
            tiers[entry_id] = _TIER_ALIAS
        title = self._titles.get(named)
        if title is not None:
            tiers[title] = _TIER_TITLE
        return tiers
