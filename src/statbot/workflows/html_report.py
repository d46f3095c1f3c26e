"""The report to keep (issue 11): each finished /stats or /explore analysis and each training,
as one self-contained HTML file sent with the result as a document.

A Telegram user keeps what arrives as a file: one tap saves or forwards it, and it opens in any
browser, offline. So the report goes out with the result (no extra button to press and no state
to wait in), named after the analysis and the data, written under the same event-derived name
as the result's other files, so a replayed event rewrites it rather than adding one.
The page is built by :mod:`statbot.analysis.report.html` from the same text, tables, charts and
``statbot analyze`` line the chat shows; ``statbot analyze ... --html FILE`` builds it the same
way (:mod:`statbot.cli.report`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from statbot.engine.replies import Reply
from statbot.workflows.data import write_result

if TYPE_CHECKING:
    from statbot.analysis.report.html import Report, ReportTable
    from statbot.jobs.train_io import TrainOutput
    from statbot.workflows.results import Analysis

CAPTION = "Report: the whole result in one file (tables, charts, the command to reproduce it)."
TITLES = {
    "describe": "Descriptive statistics",
    "correlation": "Correlation",
    "test": "Hypothesis test",
    "regression": "Regression",
    "explore": "Distributions",
}


def stamp(at: float) -> str:
    """An event's time as the report shows it (UTC, to the minute)."""
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M UTC")


def analysis_report(
    analysis: Analysis, dataset: str, *, notes: Sequence[str] = (), created: str = ""
) -> Report:
    """A /stats or /explore result as a report: its text, tables, charts and command."""
    from statbot.analysis.report.html import Report, ReportChart, ReportTable

    kind = str(analysis.summary.get("analysis", ""))
    return Report(
        title=TITLES.get(kind, kind.capitalize() or "Analysis"),
        dataset=dataset,
        text=analysis.text,
        tables=[ReportTable(t.caption, t.frame) for t in analysis.tables],
        charts=[ReportChart(c.caption, c.png) for c in analysis.charts],
        reproduce=analysis.analyze,
        notes=list(notes),
        created=created,
    )


def card_tables(card: dict[str, Any]) -> list[ReportTable]:
    """A model card's numbers as tables: metrics (CV and holdout), the models compared, the
    features' importances, and the features with their kinds."""
    import pandas as pd

    from statbot.analysis.report.html import ReportTable

    metrics = card.get("metrics") or {}
    cv, holdout = metrics.get("cv") or {}, metrics.get("holdout") or {}
    tables: list[ReportTable] = []
    names = list(dict.fromkeys([*cv, *holdout]))
    if names:
        rows = [
            {
                "metric": name,
                "cv mean": (cv.get(name) or {}).get("mean"),
                "cv std": (cv.get(name) or {}).get("std"),
                "holdout": holdout.get(name),
            }
            for name in names
        ]
        tables.append(ReportTable("Metrics: cross-validation and holdout", pd.DataFrame(rows)))
    for key, caption in (
        ("leaderboard", "Models compared by cross-validation"),
        ("importances", "Permutation feature importance"),
        ("features", "Features the model uses"),
    ):
        items = card.get(key) or []
        if items and all(isinstance(item, dict) for item in items):
            tables.append(ReportTable(caption, pd.DataFrame(items)))
    return tables


def training_html(
    result: TrainOutput, text: str, analyze: str, *, dataset: str, created: str = ""
) -> Report:
    """A finished training as a report: the chat's summary text, the card's tables, the job's
    charts (read from their PNG files) and the command that trains the same model."""
    from statbot.analysis.report.html import Report, ReportChart
    from statbot.workflows.report import CHART_TITLES

    charts = [
        ReportChart(CHART_TITLES.get(name, name), Path(path).read_bytes())
        for name, path in result.charts.items()
        if Path(path).is_file()
    ]
    return Report(
        title=f"Model: {result.name}",
        dataset=dataset,
        text=text,
        tables=card_tables(result.card),
        charts=charts,
        reproduce=analyze,
        created=created,
    )


def training_reply(
    result: TrainOutput, text: str, analyze: str, *, dataset: str, path: Path, created: str
) -> Reply:
    """Write a training's report (blocking: reads the charts, writes the file); its reply."""
    report = training_html(result, text, analyze, dataset=dataset, created=created)
    return report_reply(report, path, file_stem("model", dataset))


def report_reply(report: Report, path: Path, stem: str) -> Reply:
    """Write the report (temp name, then rename) and the document reply that sends it."""
    from statbot.analysis.report.html import render_html

    write_result(path, render_html(report).encode("utf-8"))
    return Reply.document(str(path), f"{stem}.html", CAPTION)


def file_stem(kind: str, dataset: str) -> str:
    """``report-correlation-sales``: what the report is of, readable in a downloads folder."""
    import re

    data = re.sub(r"[^\w.-]+", "_", Path(dataset).stem)[:40].strip("._") or "data"
    return f"report-{kind or 'analysis'}-{data}"
