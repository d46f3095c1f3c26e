"""Formatting modes: plain text, entities with UTF-16 offsets, Telegram's error texts."""

from __future__ import annotations

import pytest

from statbot.sandbox.markup import detect_entities, parse_text
from statbot.sandbox.params import ApiError


def test_html_entities_and_utf16_offsets() -> None:
    text, entities = parse_text(
        '📈 <b>R² = 0.93</b> &lt;ok&gt; <a href="https://x.org">doc</a>', "HTML"
    )
    assert text == "📈 R² = 0.93 <ok> doc"
    bold, link = entities
    assert (bold["type"], bold["offset"], bold["length"]) == ("bold", 3, 9)  # 📈 is 2 UTF-16 units
    assert link == {"type": "text_link", "offset": 18, "length": 3, "url": "https://x.org"}


def test_html_nesting_pre_language_and_spoiler() -> None:
    text, entities = parse_text(
        '<pre><code class="language-python">x = 1</code></pre><tg-spoiler>s</tg-spoiler>', "html"
    )
    assert text == "x = 1s"
    assert {"type": "pre", "offset": 0, "length": 5, "language": "python"} in entities
    assert {"type": "spoiler", "offset": 5, "length": 1} in entities


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("a<br>b", 'Unsupported start tag "br" at byte offset 1'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
        ("é<b", "Unclosed start tag at byte offset 2"),
    ],
)
def test_html_errors_like_telegram(source: str, expected: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_text(source, "HTML")
    assert caught.value.code == 400
    assert caught.value.description.startswith("Bad Request: can't parse entities: ")
    assert expected in caught.value.description


def test_markdown_v2() -> None:
    text, entities = parse_text(
        r"*bold* _it_ __u__ ~s~ ||sp|| `c` [t](https://a.b/\)) 1\.5", "MarkdownV2"
    )
    assert text == "bold it u s sp c t 1.5"
    kinds = [e["type"] for e in entities]
    assert kinds == ["bold", "italic", "underline", "strikethrough", "spoiler", "code", "text_link"]
    assert entities[-1]["url"] == "https://a.b/)"
    with pytest.raises(ApiError, match=r"Character '\.' is reserved"):
        parse_text("1.5", "MarkdownV2")
    with pytest.raises(ApiError, match="Can't find end of Bold entity at byte offset 0"):
        parse_text("*open", "MarkdownV2")


def test_legacy_markdown_and_plain_text_trimming() -> None:
    assert parse_text("*b* and `c`", "Markdown") == (
        "b and c",
        [{"type": "bold", "offset": 0, "length": 1}, {"type": "code", "offset": 6, "length": 1}],
    )
    assert parse_text("  <b> hi </b>  ", "HTML") == (
        "hi",
        [{"type": "bold", "offset": 0, "length": 2}],
    )
    with pytest.raises(ApiError, match="unsupported parse_mode"):
        parse_text("x", "BBCode")


def test_detected_commands_and_urls() -> None:
    assert detect_entities("/train@statbot_sandbox_bot see https://x.org and a/b") == [
        {"type": "bot_command", "offset": 0, "length": 26},
        {"type": "url", "offset": 31, "length": 13},
    ]
