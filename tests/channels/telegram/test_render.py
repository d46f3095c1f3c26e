from __future__ import annotations

from statbot.channels.telegram.ratelimit import RateLimiter
from statbot.channels.telegram.render import keyboard, progress_text, split_text, to_html
from statbot.engine.replies import Option, Reply


def test_markup_is_escaped_and_converted() -> None:
    assert to_html("a < b & *bold* `x<y`") == "a &lt; b &amp; <b>bold</b> <code>x&lt;y</code>"
    assert to_html("2*3 = 6") == "2*3 = 6"
    table = "Types:\n`a   int\nb < float`\nok"
    assert to_html(table) == "Types:\n<pre>a   int\nb &lt; float</pre>\nok"


def test_split_text_respects_limit() -> None:
    parts = split_text("line\n" * 3000 + "x" * 9000, limit=4000)
    assert all(len(p) <= 4000 for p in parts)
    assert "".join(parts) == "line\n" * 3000 + "x" * 9000


def test_keyboard_paginates_and_ticks() -> None:
    options = [Option(f"col_{i}", f"col_{i}") for i in range(20)]
    reply = Reply.ask("Pick", options, multi=True, selected=("col_9",), page_size=8)
    first = keyboard(reply, page=0)
    datas = [b["callback_data"] for row in first for b in row]
    assert "o:0" in datas and "o:8" not in datas and "p:1" in datas and "d:" in datas
    assert all(len(d.encode()) <= 64 for d in datas)
    second = keyboard(reply, page=1)
    labels = [b["text"] for row in second for b in row]
    assert "✅ col_9" in labels and "⬜ col_8" in labels and "◀ Prev" in labels


def test_progress_text() -> None:
    assert progress_text(0.5, "fold 2/4").startswith("██████░░░░░░ 50%")


def test_rate_limiter_per_chat_global_and_pause() -> None:
    now = [0.0]
    limiter = RateLimiter(per_chat=1.0, chat_burst=2.0, overall=30.0, clock=lambda: now[0])
    assert limiter.reserve(1) == 0.0 and limiter.reserve(1) == 0.0
    assert abs(limiter.reserve(1) - 1.0) < 1e-9  # burst used up: 1 msg/s
    assert limiter.reserve(2) == 0.0  # another chat is not held back
    limiter.pause(3, 5.0)
    assert limiter.reserve(3) >= 5.0 and limiter.reserve(4) == 0.0
    group = RateLimiter(group_per_minute=20.0, group_burst=1.0, clock=lambda: now[0])
    group.reserve(-100)
    assert abs(group.reserve(-100) - 3.0) < 1e-9  # 20/min


def test_a_chat_in_debt_stays_paced() -> None:
    """A bucket that went negative refilled to full on the next call, so no limit held after
    the first wait (found with benchmarks/burst.py)."""
    now = [0.0]
    limiter = RateLimiter(per_chat=1.0, chat_burst=3.0, clock=lambda: now[0])
    waits = [limiter.reserve(7) for _ in range(6)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert [round(w, 9) for w in waits[3:]] == [1.0, 2.0, 3.0]  # queued, one per second
    now[0] = 10.0  # idle long enough: the burst is back, no more
    assert [limiter.reserve(7) for _ in range(4)][-1] > 0.0


def test_replies_are_not_paced_overall_but_bulk_sends_are() -> None:
    """Telegram's ~30/s is for bulk notifications; replies to 300 users go out at once, and
    a private chat is not paced ahead by default (a 429 pauses it instead)."""
    now = [0.0]
    limiter = RateLimiter(overall=30.0, clock=lambda: now[0])
    assert all(limiter.reserve(chat) == 0.0 for chat in range(1, 301) for _ in range(5))
    assert len(limiter) == 0  # no buckets kept for chats that are not paced
    bulk = [limiter.reserve(chat, bulk=True) for chat in range(1001, 1061)]
    # No burst: evenly spaced at 30 per second, so no second holds more than 30 (a full
    # bucket of 30 let 30 go at once and 30 more before the second was out).
    assert bulk[0] == 0.0 and abs(bulk[1] - 1 / 30) < 1e-9 and abs(bulk[59] - 59 / 30) < 1e-9
    assert max(sum(1 for w in bulk if t <= w < t + 1.0 - 1e-9) for t in bulk) == 30
