"""/stats' test and correlation results: the shared report blocks
(statbot.analysis.stats.texts, the same words ``statbot analyze`` prints), tables as monospace
blocks, every table as a CSV, a box/violin chart of compared groups, and the command line that
reproduces it with the options that were chosen (paired, the value, the method)."""

from __future__ import annotations

from typing import Any

from statbot.workflows.results import Analysis, Chart, Table, analyze_line

_KEEP = "'"  # a backquote inside a table would end the chat's monospace block


def chat_text(blocks: list[Any]) -> str:
    """Text blocks as lines, tables inside `…` (rendered as a monospace block)."""
    lines = []
    for block in blocks:
        if block.table:
            lines.append("`\n" + block.text.replace("`", _KEEP) + "\n`")
        else:
            lines.append(block.text)
    return "\n".join(lines)


def _chart(frame: Any, var_a: str, var_b: str | None, paired: bool) -> list[Chart]:
    from statbot.analysis.report.charts import groups_violin_box
    from statbot.analysis.stats.tests import comparison, grouped_values

    if var_b is None:
        return []
    if paired:
        both = frame[[var_a, var_b]].dropna()
        samples = {var_a: both[var_a].to_numpy(float), var_b: both[var_b].to_numpy(float)}
        png = groups_violin_box(samples, "value", "column (paired rows)")
        return [Chart("groups", f"{var_a} and {var_b}", png)]
    kind, factor, value = comparison(frame, var_a, var_b)
    if kind == "groups":
        png = groups_violin_box(grouped_values(frame, factor, value), value, factor)
        return [Chart("groups", f"{value} by {factor}", png)]
    if kind == "samples":
        samples = {c: frame[c].dropna().to_numpy(float) for c in (var_a, var_b)}
        return [Chart("groups", f"{var_a} and {var_b}", groups_violin_box(samples, "value", ""))]
    return []


def run_test(
    frame: Any,
    params: dict[str, Any],
    source: str,
) -> Analysis:
    """``params``: a, b (or None), paired, mu, method — as /stats collected them."""
    import pandas as pd

    from statbot.analysis.stats.tests import choose_and_run
    from statbot.analysis.stats.texts import hypothesis_blocks

    var_a, var_b = params["a"], params.get("b")
    paired, mu = bool(params.get("paired")), float(params.get("mu") or 0.0)
    method = str(params.get("method") or "auto")
    result = choose_and_run(frame, var_a, var_b, paired=paired, mu=mu, method=method)
    tables = [Table("test", "The test result (full precision)", result.to_frame())]
    if result.crosstab is not None:
        tables.append(Table("crosstab", "Counts, row and column %", result.crosstab.to_frame()))
    elif result.groups:
        groups = pd.DataFrame([{"group": g, **s} for g, s in result.groups.items()])
        tables.append(Table("groups", "Group n, mean, sd, median, 95% CI", groups))
    if result.posthoc is not None:
        pairs = pd.DataFrame([p.to_dict() for p in result.posthoc.pairs])
        tables.append(Table("pairs", f"Pairwise comparisons ({result.posthoc.method})", pairs))
    options: dict[str, str | bool] = {"a": var_a}
    if var_b is not None:
        options["b"] = var_b
    if paired:
        options["paired"] = True
    if var_b is None and mu != 0.0:
        options["mu"] = repr(mu)
    if method != "auto":
        options["method"] = method
    return Analysis(
        text=chat_text(hypothesis_blocks(result)),
        tables=tables,
        charts=_chart(frame, var_a, var_b, paired),
        analyze=analyze_line("test", source, **options),
        summary={
            "analysis": "test",
            "columns": [c for c in (var_a, var_b) if c],
            "test": result.test,
            "alternative": result.alternative,
        },
    )


def run_correlation(frame: Any, columns: list[str], source: str) -> Analysis:
    import pandas as pd

    from statbot.analysis.report.charts import correlation_heatmap
    from statbot.analysis.stats.correlations import correlate_all
    from statbot.analysis.stats.texts import correlation_blocks

    table = correlate_all(frame, columns)
    matrix = pd.DataFrame(table.matrix("pearson"), index=table.columns, columns=table.columns)
    return Analysis(
        text=chat_text(correlation_blocks(table)),
        tables=[
            Table(
                "correlation", "All pairs: r, ρ, τ, p-values, n (full precision)", table.to_frame()
            ),
            Table(
                "correlation-matrix", "Correlation matrix (Pearson r)", matrix.reset_index(names="")
            ),
        ],
        charts=[Chart("heatmap", "Correlation heatmap", correlation_heatmap(matrix))],
        analyze=analyze_line("correlate", source, columns=",".join(columns), method="all"),
        summary={"analysis": "correlation", "columns": list(table.columns)},
    )
