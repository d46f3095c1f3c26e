"""One finished analysis or training as a self-contained HTML file, to keep (issue 11).

Public API::

    Report(title, dataset, text, tables, charts, reproduce, notes)   # what goes in
    render_html(report) -> str                                     # one HTML document

The file needs nothing but a browser: charts are inline PNGs (``data:`` URIs), the style is
inline, and there is no script. Everything that comes from the user (file and column names,
cell values, level names) is escaped with :func:`html.escape`, and the page also carries a
Content-Security-Policy that allows no script and no outside fetch at all, so a column called
``<script>`` is shown as text even if an escape were ever missed. Numbers show six
significant digits; hovering a cell shows its full precision (the CSV files carry all digits).
"""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Report", "ReportChart", "ReportTable", "render_html"]

MAX_ROWS = 2000  # a table longer than this is cut in the report (the CSV has every row)
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
_STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;max-width:60rem;
margin:2rem auto;padding:0 1rem;color:#1b1b1b}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem}
.meta{color:#666;margin-top:0}p.summary{white-space:pre-wrap}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-variant-numeric:tabular-nums}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:right;vertical-align:top}
th{background:#f3f3f3}td.text,th.text{text-align:left}caption{text-align:left;
font-weight:600;padding:.25rem 0}figure{margin:1rem 0}img{max-width:100%}
figcaption{color:#444}pre{background:#f6f6f6;padding:.6rem;overflow-x:auto;
white-space:pre-wrap;word-break:break-all}code{background:#f6f6f6;padding:0 .2rem}
ul.notes{color:#444}
""".strip()
_CODE = re.compile(r"`([^`\n]+)`")
_BOLD = re.compile(r"\*([^*\n]+)\*")


@dataclass(frozen=True, slots=True)
class ReportTable:
    caption: str
    frame: pd.DataFrame


@dataclass(frozen=True, slots=True)
class ReportChart:
    caption: str
    png: bytes


@dataclass(frozen=True, slots=True)
class Report:
    """What one analysis produced. ``text`` is the chat's summary in its neutral markup
    (``*bold*``, `` `code` ``); ``reproduce`` the ``statbot analyze`` line; ``notes`` how the
    data was read (columns converted, rows skipped)."""

    title: str
    dataset: str
    text: str
    tables: Sequence[ReportTable] = ()
    charts: Sequence[ReportChart] = ()
    reproduce: str = ""
    notes: Sequence[str] = ()
    created: str = ""  # an ISO timestamp, shown as given
    monospace: bool = False  # ``text`` is aligned plain text (a CLI table), not chat markup


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _markup(text: str) -> str:
    """The chat's markup as HTML: escaped first, so only the tags added here are tags."""
    escaped = _e(text)
    escaped = _CODE.sub(r"<code>\1</code>", escaped)
    return _BOLD.sub(r"<b>\1</b>", escaped)


def _cell(value: Any) -> tuple[str, bool]:
    """(escaped cell HTML, whether it is text, i.e. left-aligned)."""
    import numpy as np

    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—", False
    if isinstance(value, bool | np.bool_):
        return _e(value), True
    if isinstance(value, int | np.integer):
        return _e(f"{int(value):,}"), False
    if isinstance(value, float | np.floating):
        number = float(value)
        if not math.isfinite(number):
            return _e(number), False
        return f'<span title="{_e(repr(number))}">{_e(f"{number:.6g}")}</span>', False
    return _e(value), True


def _table(table: ReportTable) -> str:
    frame = table.frame
    columns = [str(c) for c in frame.columns]
    out = [f"<table><caption>{_e(table.caption)}</caption><thead><tr>"]
    out += [f'<th class="text">{_e(c)}</th>' for c in columns]
    out.append("</tr></thead><tbody>")
    for row in frame.head(MAX_ROWS).itertuples(index=False, name=None):
        out.append("<tr>")
        for value in row:
            shown, text = _cell(value)
            out.append(f'<td class="text">{shown}</td>' if text else f"<td>{shown}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    if len(frame) > MAX_ROWS:
        out.append(f"<p>First {MAX_ROWS:,} of {len(frame):,} rows; the CSV file has all.</p>")
    return "".join(out)


def _chart(chart: ReportChart) -> str:
    data = base64.b64encode(chart.png).decode("ascii")
    return (
        f'<figure><img alt="{_e(chart.caption)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{_e(chart.caption)}</figcaption></figure>"
    )


def render_html(report: Report) -> str:
    """The whole report as one UTF-8 HTML document (no script, nothing fetched)."""
    meta = f"Data: {_e(report.dataset)}"
    if report.created:
        meta += f" · {_e(report.created)}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(report.title)} — {_e(report.dataset)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{_e(report.title)}</h1>",
        f'<p class="meta">{meta}</p>',
        f"<pre>{_e(report.text)}</pre>"
        if report.monospace
        else f'<p class="summary">{_markup(report.text)}</p>',
    ]
    if report.notes:
        parts.append('<h2>How the data was read</h2><ul class="notes">')
        parts += [f"<li>{_markup(note)}</li>" for note in report.notes]
        parts.append("</ul>")
    if report.charts:
        parts.append("<h2>Charts</h2>")
        parts += [_chart(chart) for chart in report.charts]
    if report.tables:
        parts.append("<h2>Tables</h2>")
        parts += [_table(table) for table in report.tables]
    if report.reproduce:
        parts.append("<h2>Reproduce</h2><p>The same numbers, without the chat:</p>")
        parts.append(f"<pre>{_e(report.reproduce)}</pre>")
    parts.append('<p class="meta">Made by statbot.</p></body></html>')
    return "\n".join(parts) + "\n"
