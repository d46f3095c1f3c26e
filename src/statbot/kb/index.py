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


# How much a query word found in an entry's names (title, aliases, id) or tags adds to its
# BM25 score scaled to [-1, 0]: BM25 alone lets a rare word in a body ("find") outweigh the
# entry's own name when that name is common in other entries' bodies ("outlier").
# A name the query contains whole ("how to read a regression coefficient" holds the title
# "Regression coefficient") adds CONTAIN_BOOST per word of that name, up to three words.
NAME_BOOST = 1.0
TAG_BOOST = 0.3
CONTAIN_BOOST = 0.3
PREFIX_SHARE = 0.5
RERANK = 40  # a word cut short is weaker evidence than a whole word


def stem(word: str) -> str:
    """A light plural fold, for comparing query words with names: "outliers" → "outlier"."""
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


@dataclass(frozen=True, slots=True)
class _Group:
    """One subject word of a query: the stems it stands for, or the prefix it was cut at, or
    (a synonym) the stems of a phrase that must all be there."""

    stems: frozenset[str]
    prefix: str | None = None
    phrase: frozenset[str] | None = None

    def found_in(self, names: frozenset[str]) -> float:
        if self.phrase is not None:
            return float(self.phrase <= names)
        if self.prefix is not None:
            return PREFIX_SHARE if any(n.startswith(self.prefix) for n in names) else 0.0
        return float(not self.stems.isdisjoint(names))


@dataclass(frozen=True, slots=True)
class Hit:
    entry: Entry
    score: float  # lower is better: BM25 scaled to [-1, 0], less the name and tag boosts


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
        self._name_words = {
            e.id: frozenset(stem(w) for w in W.words(" ".join((e.title, e.id, *e.aliases))))
            for e in entries
        }
        self._names = {
            e.id: tuple(
                words
                for name in (e.title, *e.aliases)
                if (words := frozenset(stem(w) for w in W.subject_words(name)))
            )
            for e in entries
        }
        self._tag_words = {
            e.id: frozenset(stem(w) for w in W.words(" ".join(e.tags))) for e in entries
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
    def parse(self, query: str) -> tuple[str, list[_Group]]:
        """The FTS5 expression a text becomes ("" when it names nothing searchable), and what
        each of its subject words stands for (itself, its corrections, or a prefix)."""
        tokens = W.subject_words(query)
        terms: list[str] = []
        groups: list[_Group] = []
        last = len(tokens) - 1
        for index, token in enumerate(tokens):
            if token in self.vocabulary:
                terms.append(_quote([token]))
                groups.append(_Group(frozenset({stem(token)})))
            elif len(token) >= (2 if index == last else 3) and self.vocabulary.has_prefix(token):
                terms.append(_quote([token]) + "*")  # still being typed, or cut short
                groups.append(_Group(frozenset(), token))
            else:
                fixes = self.vocabulary.corrections(token) or [token]
                terms += [_quote([fix]) for fix in fixes]
                groups.append(_Group(frozenset(stem(f) for f in fixes)))
        for phrase in W.synonyms_in(W.words(query)):
            terms.append(_quote(phrase))
            groups.append(_Group(frozenset(), None, frozenset(stem(w) for w in phrase)))
        return " OR ".join(dict.fromkeys(terms)), groups

    def match_expression(self, query: str) -> str:
        return self.parse(query)[0]

    def search(self, query: str, limit: int = 10) -> list[Hit]:
        """The best ``limit`` entries for ``query``, best first."""
        expression, groups = self.parse(query)
        if not expression:
            return []
        with self._lock:
            rows = self._db.execute(
                f"SELECT id, bm25(docs, {', '.join(map(str, WEIGHTS))}) FROM docs "
                "WHERE docs MATCH ? ORDER BY 2 LIMIT 200",
                (expression,),
            ).fetchall()
        if not rows:
            return []
        tiers = self._tiers(W.key(query))
        # BM25 orders the candidates; only its best RERANK (and the entries the query names
        # outright) can reach the top once the boosts are added, so only they are re-scored.
        head = rows[:RERANK] + [r for r in rows[RERANK:] if r[0] in tiers]
        scale = -rows[0][1] or 1.0
        asked = max(1, sum(1 for g in groups if g.phrase is None))
        said = frozenset().union(*(g.stems for g in groups))
        scored = []
        for entry_id, score in head:
            names, tags = self._name_words[entry_id], self._tag_words[entry_id]
            in_names = sum(g.found_in(names) for g in groups)
            in_tags = sum(g.found_in(tags) for g in groups)
            whole = max((len(n) for n in self._names[entry_id] if n <= said), default=0)
            boost = (NAME_BOOST * in_names + TAG_BOOST * in_tags) / asked
            blended = score / scale - boost - CONTAIN_BOOST * min(whole, 3)
            scored.append((tiers.get(entry_id, _TIER_TEXT), blended, entry_id))
        scored.sort()
        return [Hit(self.entries[i], blended) for _, blended, i in scored[:limit]]

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
