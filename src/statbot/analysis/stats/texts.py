"""The words and tables of a test or correlation result, written once for the chat and for
``statbot analyze`` (issue 11: one code path for both texts).

A report is a list of blocks: a line of text, or a table already laid out in columns. The chat
sends tables as monospace blocks; the CLI prints them as they are. Numbers are rounded for
reading (4 significant digits); the JSON and the CSV keep full precision. Every sentence here is
built from the numbers it cites.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from statbot.analysis.stats._phrases import ALPHA, num, pval

if TYPE_CHECKING:
    from statbot.analysis.stats.correlations import CorrelationTable
    from statbot.analysis.stats.crosstab import Crosstab
    from statbot.analysis.stats.hypothesis import HypothesisResult
    from statbot.analysis.stats.posthoc import PostHoc

RANK_TESTS = {
    "one-sample t-test": "Wilcoxon signed-rank test",
    "paired t-test": "Wilcoxon signed-rank test (paired)",
    "Welch two-sample t-test": "Mann-Whitney U test",
    "one-way ANOVA": "Kruskal-Wallis test",
    "Welch's ANOVA": "Kruskal-Wallis test",
}
MEANS_TESTS = {
    "Wilcoxon signed-rank test": "one-sample t-test",
    "Wilcoxon signed-rank test (paired)": "paired t-test",
    "Mann-Whitney U test": "Welch two-sample t-test",
    "Kruskal-Wallis test": "ANOVA (classic or Welch's)",
}


@dataclass(frozen=True)
class Block:
    text: str
    table: bool = False


def g4(value: Any) -> str:
    if isinstance(value, float):
        return "n/a" if not math.isfinite(value) else f"{value:.4g}"
    return str(value)


def layout(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Columns aligned: the first left, the rest right (values already strings or numbers)."""
    cells = [[str(h) for h in headers], *[[g4(v) for v in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = [
        "  ".join(
            [r[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True))]
        ).rstrip()
        for r in cells
    ]
    return "\n".join(lines)


def _p(p: float) -> str:
    return "<0.001" if p < 0.001 else f"{p:.3g}"


def _group_table(result: HypothesisResult) -> Block | None:
    if not result.groups or "mean" not in next(iter(result.groups.values())):
        return None
    rows = [
        [
            g,
            int(s["n"]),
            s["mean"],
            s["std"],
            s["median"],
            f"{g4(s['ci_low'])} to {g4(s['ci_high'])}",
        ]
        for g, s in result.groups.items()
    ]
    return Block(layout(["group", "n", "mean", "sd", "median", "95% CI of mean"], rows), True)


def _crosstab_table(tab: Crosstab) -> Block:
    row_pct, col_pct = tab.row_percent(), tab.column_percent()
    rows: list[list[Any]] = []
    for i, level in enumerate(tab.rows):
        rows.append([level, "n", *tab.counts[i], sum(tab.counts[i])])
        rows.append(["", "row %", *(f"{v:.1f}" for v in row_pct[i]), "100.0"])
        rows.append(["", "col %", *(f"{v:.1f}" for v in col_pct[i]), ""])
    totals = [sum(r[j] for r in tab.counts) for j in range(len(tab.columns))]
    rows.append(["total", "n", *totals, tab.total])
    head = [f"{tab.row_name} \\ {tab.column_name}", "", *tab.columns, "total"]
    return Block(layout(head, rows), True)


def posthoc_blocks(post: PostHoc) -> list[Block]:
    rows = [
        [f"{p.a} − {p.b}", p.difference, f"{g4(p.ci_low)} to {g4(p.ci_high)}", _p(p.p_adjusted)]
        for p in post.pairs
    ]
    table = layout(["pair", "difference", "95% CI", "adjusted p"], rows)
    differ = [p for p in post.pairs if p.p_adjusted < ALPHA]
    if differ:
        said = "; ".join(
            f"{p.a} − {p.b} = {num(p.difference)} ({pval(p.p_adjusted)})" for p in differ
        )
        verdict = (
            f"{len(differ)} of {len(post.pairs)} pairs differ at adjusted p < {ALPHA}: {said}."
        )
    else:
        verdict = f"None of the {len(post.pairs)} pairs differs at adjusted p < {ALPHA}."
    return [
        Block(
            f"Pairwise comparisons ({post.method}; p-values and CIs adjusted for "
            f"{len(post.pairs)} pairs):"
        ),
        Block(table, True),
        Block(verdict),
    ]


def hypothesis_blocks(result: HypothesisResult) -> list[Block]:
    blocks: list[Block] = []
    first = _crosstab_table(result.crosstab) if result.crosstab else _group_table(result)
    if first is not None:
        blocks.append(first)
    blocks.append(Block(result.sentence))
    df = "" if result.df is None else f", df {num(result.df)}"
    if result.df is not None and result.df2 is not None:
        df = f", df {num(result.df)} and {num(result.df2)}"
    blocks.append(
        Block(
            f"Test: {result.test} — {result.statistic_name} = {num(result.statistic)}{df}, "
            f"{pval(result.p_value)}, n {result.n:,}."
        )
    )
    for e in [*([result.effect] if result.effect else []), *result.other_effects]:
        blocks.append(
            Block(
                f"Effect size {e.name} = {num(e.value)} "
                f"(95% CI {num(e.ci_low)} to {num(e.ci_high)})."
            )
        )
    if result.posthoc is not None:
        blocks += posthoc_blocks(result.posthoc)
    for check in result.assumptions:
        verdict = "ok" if check.passed else "not met"
        blocks.append(Block(f"Assumption {check.name} ({check.test}): {verdict} — {check.detail}"))
    if result.fallback:
        blocks.append(Block(f"Why this test: {result.fallback}."))
    blocks += [Block(n) for n in result.notes]
    other = (RANK_TESTS if result.method == "means" else MEANS_TESTS).get(result.test)
    if result.alternative and other:
        kind = "rank-based" if result.alternative == "ranks" else "means-based"
        blocks.append(Block(f"The {kind} alternative, the {other}, can be chosen instead."))
    return blocks


def correlation_blocks(table: CorrelationTable, top: int = 8) -> list[Block]:
    ranked = sorted(
        table.pairs,
        key=lambda p: -abs(p.values["pearson"][0]) if math.isfinite(p.values["pearson"][0]) else 0,
    )
    blocks = [
        Block(
            f"Correlations of {len(table.columns)} columns, strongest Pearson r first "
            "(Spearman ρ and Kendall τ beside it):"
        )
    ]
    rows = [
        [
            f"{p.a} ~ {p.b}",
            p.values["pearson"][0],
            _p(p.values["pearson"][1]),
            p.values["spearman"][0],
            p.values["kendall"][0],
            p.n,
        ]
        for p in ranked[:top]
    ]
    blocks.append(Block(layout(["pair", "r", "p", "ρ", "τ", "n"], rows), True))
    if len(ranked) > top:
        blocks.append(Block(f"… {len(ranked) - top} more pairs in the CSV."))
    for column, why in table.left_out.items():
        blocks.append(Block(f"Left out: {column} ({why})."))
    return blocks


def plain(blocks: list[Block]) -> str:
    """The CLI's text: every block on its own line(s)."""
    return "\n".join(b.text for b in blocks)
