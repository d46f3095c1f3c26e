"""Prefix and typo tolerance over the index's own vocabulary.

A word the entries never use ("hetroscedasticity", "kruskall") is replaced by the words of the
vocabulary at the smallest edit distance (Damerau: a swap of two neighbours counts one), found
through a table of single-character deletions (the symmetric-delete idea): candidates come from a
dictionary look-up per deletion instead of a distance to every word, so a query stays well under a
millisecond with ~10,000 words. A word that starts some vocabulary words ("regr") matches them as
a prefix.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable

MIN_TYPO_LEN = 4  # "sd", "ci", "auc" are names, not typos of other words


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def distance(a: str, b: str) -> int:
    """Optimal-string-alignment distance (insert, delete, substitute, swap neighbours)."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], prev2[j - 2] + 1)
        prev2, prev = prev, row
    return prev[-1]


def allowed_distance(word: str) -> int:
    return 1 if len(word) < 7 else 2


class Vocabulary:
    """The words of the entries, with how many entries use each."""

    def __init__(self, documents: Iterable[Iterable[str]]) -> None:
        self.frequency: Counter[str] = Counter()
        for doc in documents:
            self.frequency.update(set(doc))
        self.sorted = sorted(self.frequency)
        self._by_delete: dict[str, list[str]] = {}
        for word in self.sorted:
            if len(word) >= MIN_TYPO_LEN - 1:
                for gone in _deletes(word):
                    self._by_delete.setdefault(gone, []).append(word)

    def __contains__(self, word: object) -> bool:
        return word in self.frequency

    def has_prefix(self, prefix: str) -> bool:
        """Some word of the vocabulary is longer and starts with ``prefix``."""
        at = bisect.bisect_right(self.sorted, prefix)
        return at < len(self.sorted) and self.sorted[at].startswith(prefix)

    def corrections(self, word: str, limit: int = 2) -> list[str]:
        """The nearest vocabulary words (most used first), or [] when none is near enough."""
        if len(word) < MIN_TYPO_LEN or word.isdigit():
            return []
        candidates: set[str] = set()
        for probe in (word, *_deletes(word)):
            if probe in self.frequency:
                candidates.add(probe)
            candidates.update(self._by_delete.get(probe, ()))
        best: list[tuple[int, int, str]] = []
        most = allowed_distance(word)
        for candidate in candidates:
            d = distance(word, candidate)
            if 0 < d <= most:
                best.append((d, -self.frequency[candidate], candidate))
        best.sort()
        if not best:
            return []
        nearest = best[0][0]
        return [w for d, _, w in best if d == nearest][:limit]
