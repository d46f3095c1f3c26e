"""The self-contained HTML report (statbot.analysis.report.html): everything escaped, charts
inline, nothing fetched, no script — also for hostile column names and values."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from statbot.analysis.report.charts import histogram_box
from statbot.analysis.report.html import MAX_ROWS, Report, ReportChart, ReportTable, render_html

HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(2)>',
    "</table><iframe src=//evil>",
    "a & b",
    "`*x*`",
    "=cmd|' /C calc'!A0",
]
SAFE_TAGS = {
    "html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "ul", "li", "table",
    "caption", "thead", "tbody", "tr", "th", "td", "span", "figure", "img", "figcaption",
    "pre", "code", "b",
}  # fmt: skip


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(page: str) -> _Tags:
    parser = _Tags()
    parser.feed(page)
    return parser


def _report(**changes: object) -> Report:
    frame = pd.DataFrame(
        {name: [1.5, float("nan"), 3] for name in HOSTILE[:3]} | {"level": HOSTILE[:3]}
    )
    base = {
        "title": "Describe",
        "dataset": HOSTILE[0] + ".csv",
        "text": f"`{HOSTILE[0]}`: n 3, *mean* 2.25\nsecond line {HOSTILE[1]}",
        "tables": [ReportTable(HOSTILE[2], frame)],
        "charts": [ReportChart(HOSTILE[1], histogram_box(pd.Series([1.0, 2, 3]), "x"))],
        "reproduce": f"statbot analyze describe '{HOSTILE[0]}.csv' --json",
        "notes": [f"{HOSTILE[0]}: read as numbers, currency $ removed"],
    }
    return Report(**(base | changes))  # type: ignore[arg-type]


def test_hostile_names_and_values_are_text_never_markup() -> None:
    page = render_html(_report())
    parsed = _parse(page)
    tags = {tag for tag, _ in parsed.tags}
    assert tags <= SAFE_TAGS, tags - SAFE_TAGS
    for tag, attrs in parsed.tags:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        if tag == "img":
            assert (attrs["src"] or "").startswith("data:image/png;base64,")
    text = "".join(parsed.text)
    for value in HOSTILE[:3]:
        assert value in text  # shown to the reader as written
    assert "<script>" not in page and "<iframe" not in page


def test_the_page_allows_no_script_and_no_fetch() -> None:
    parsed = _parse(render_html(_report()))
    csp = [a["content"] for t, a in parsed.tags if t == "meta" and a.get("http-equiv")]
    assert csp == ["default-src 'none'; img-src data:; style-src 'unsafe-inline'"]
    urls = [v for _, a in parsed.tags for k, v in a.items() if k in ("src", "href")]
    assert all(u is not None and u.startswith("data:") for u in urls)


def test_charts_are_inline_pngs_that_decode() -> None:
    png = histogram_box(pd.Series(np.arange(50.0)), "values")
    page = render_html(_report(charts=[ReportChart("Distribution", png)]))
    src = next(a["src"] for t, a in _parse(page).tags if t == "img")
    assert src is not None and base64.b64decode(src.split(",", 1)[1]) == png


def test_numbers_six_digits_full_precision_on_hover() -> None:
    frame = pd.DataFrame({"x": [1 / 3, 12345678.0], "n": [1234567, 2]})
    page = render_html(_report(tables=[ReportTable("t", frame)]))
    assert '<span title="0.3333333333333333">0.333333</span>' in page
    assert '<span title="12345678.0">1.23457e+07</span>' in page
    assert "<td>1,234,567</td>" in page


def test_markup_only_from_the_chat_markers() -> None:
    page = render_html(_report(text="*bold* and `code` and <b>raw</b>"))
    assert "<b>bold</b> and <code>code</code> and &lt;b&gt;raw&lt;/b&gt;" in page


def test_long_tables_are_cut_and_say_so() -> None:
    frame = pd.DataFrame({"i": range(MAX_ROWS + 5)})
    page = render_html(_report(tables=[ReportTable("t", frame)]))
    assert page.count("<tr>") == MAX_ROWS + 1  # header + rows
    assert f"First {MAX_ROWS:,} of {MAX_ROWS + 5:,} rows" in page


def test_reproduce_line_is_shown_verbatim() -> None:
    page = render_html(_report())
    pre = re.search(r"<pre>(.*?)</pre>", page, re.S)
    assert pre is not None
    assert "statbot analyze describe &#x27;&lt;script&gt;" in pre.group(1)


@pytest.mark.parametrize("empty", ["tables", "charts", "notes", "reproduce"])
def test_sections_without_content_are_left_out(empty: str) -> None:
    value: object = "" if empty == "reproduce" else []
    page = render_html(_report(**{empty: value}))
    heading = {"tables": "Tables", "charts": "Charts", "notes": "How the data was read",
               "reproduce": "Reproduce"}[empty]  # fmt: skip
    assert f"<h2>{heading}" not in page
