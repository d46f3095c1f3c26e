"""Knowledge-base search quality and speed (issue 13).

Runs every question of ``benchmarks/kb_questions.toml`` (as a person would type it, each with
the entry they would expect) through ``KnowledgeBase.search`` and reports
- ``recall_at_3``: the share of questions whose expected entry is among the first three
  results (target >= 0.9), over the questions whose entry exists (``answerable``);
- ``p50_ms`` / ``p99_ms``: one search, query parsing included (target p99 <= 5 ms for 150
  entries), each question ``--repeat`` times, interleaved; ``p99_cpu_ms`` the same in CPU
  time of the thread, which a loaded machine (2 cores shared by several jobs) does not
  inflate the way it does wall time;
- the peer, side by side: ``plain_recall_at_3`` / ``plain_p99_ms``, BM25 over the same FTS5
  table with the question's words OR-ed as typed (no question words stripped, no synonyms,
  prefixes, typo corrections or name tiers), i.e. what FTS5 alone gives;
- ``misses``: the questions that missed, with what came first, for tuning.
Prints one JSON line.

    .venv/bin/python benchmarks/kb_search.py [--repeat 20] [--entries DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import tomllib
from pathlib import Path
from typing import Any

from statbot.kb import KnowledgeBase
from statbot.kb.index import WEIGHTS
from statbot.kb.words import words

HERE = Path(__file__).resolve().parent


def plain_search(kb: KnowledgeBase, text: str, limit: int) -> list[str]:
    """The peer: the typed words, OR-ed, ranked by the same weighted BM25."""
    terms = " OR ".join('"' + w + '"' for w in dict.fromkeys(words(text)))
    if not terms:
        return []
    weights = ", ".join(map(str, WEIGHTS))
    rows = kb._db.execute(
        f"SELECT id FROM docs WHERE docs MATCH ? ORDER BY bm25(docs, {weights}) LIMIT ?",
        (terms, limit),
    ).fetchall()
    return [row[0] for row in rows]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=Path, default=HERE / "kb_questions.toml")
    parser.add_argument("--entries", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    questions = tomllib.loads(args.questions.read_text(encoding="utf-8"))["question"]
    started = time.perf_counter()
    kb = KnowledgeBase.load(args.entries)
    load_ms = (time.perf_counter() - started) * 1000
    answerable = [q for q in questions if q["expect"] in kb.entries]

    hits = plain_hits = 0
    misses: list[dict[str, Any]] = []
    for q in answerable:
        found = [h.entry.id for h in kb.search(q["text"], limit=3)]
        if q["expect"] in found:
            hits += 1
        else:
            misses.append({"q": q["text"], "expect": q["expect"], "got": found})
        plain_hits += q["expect"] in plain_search(kb, q["text"], 3)

    timings: dict[str, list[float]] = {"statbot": [], "plain": [], "cpu": []}
    for _ in range(args.repeat):
        for q in questions:
            c0, t0 = time.thread_time(), time.perf_counter()
            kb.search(q["text"], limit=10)
            t1, c1 = time.perf_counter(), time.thread_time()
            plain_search(kb, q["text"], 10)
            t2 = time.perf_counter()
            timings["statbot"].append((t1 - t0) * 1000)
            timings["plain"].append((t2 - t1) * 1000)
            timings["cpu"].append((c1 - c0) * 1000)

    n = len(answerable)
    print(
        json.dumps(
            {
                "recall_at_3": round(hits / n, 3) if n else None,
                "p50_ms": round(statistics.median(timings["statbot"]), 3),
                "p99_ms": round(percentile(timings["statbot"], 0.99), 3),
                "p99_cpu_ms": round(percentile(timings["cpu"], 0.99), 3),
                "plain_recall_at_3": round(plain_hits / n, 3) if n else None,
                "plain_p99_ms": round(percentile(timings["plain"], 0.99), 3),
                "entries": len(kb.entries),
                "questions": len(questions),
                "answerable": n,
                "load_ms": round(load_ms, 1),
                "repeat": args.repeat,
                "nproc": os.cpu_count(),
                "loadavg_1m": round(os.getloadavg()[0], 2),
                "misses": misses,
            }
        )
    )


if __name__ == "__main__":
    main()
