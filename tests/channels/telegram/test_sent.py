"""What the channel keeps of the messages it sent (channels/telegram/sent.py, telegram.sqlite3):
rows older than a week are swept (/forget deleting a user's: tests/channels/telegram/
test_expiry_data.py, through the real bot)."""

from __future__ import annotations

import time
from pathlib import Path

from statbot.channels.telegram.sent import RETENTION_S, SentMessages
from statbot.engine.replies import Option, Reply


def test_rows_older_than_the_retention_are_swept(tmp_path: Path) -> None:
    sent = SentMessages(tmp_path / "telegram.sqlite3")
    try:
        sent.put_menu(1, 10, Reply.ask("Pick one", [Option("a", "A")]))
        sent.put_progress(1, "job-1", 11, "Training… 40%")
        sent.sweep(now=time.time() + RETENTION_S - 60)  # not yet a week old: kept
        assert sent.get_menu(1, 10) is not None and sent.get_progress(1, "job-1") is not None
        sent.sweep(now=time.time() + RETENTION_S + 60)
        assert sent.get_menu(1, 10) is None and sent.get_progress(1, "job-1") is None
    finally:
        sent.close()


async def test_a_press_waits_for_the_menu_another_replica_is_sending(tmp_path: Path) -> None:
    """Replica A sends a menu; the user sees it and presses before A has written its row
    (sendMessage has not answered A yet); the press reaches replica B. B waits for the row
    instead of calling the press out of date (issue 14's training drill)."""
    import asyncio
    import dataclasses

    a = SentMessages(tmp_path / "telegram.sqlite3")
    b = SentMessages(tmp_path / "telegram.sqlite3")
    menu = dataclasses.replace(Reply.ask("Pick one", [Option("a", "A")]), token="t1")
    on_its_way = asyncio.Event()

    async def send() -> None:
        with a.sending(7):
            on_its_way.set()
            await asyncio.sleep(0.3)  # sendMessage's round trip
            a.put_menu(7, 42, menu)

    try:
        sending = asyncio.create_task(send())
        await on_its_way.wait()
        assert b.get_menu(7, 42) is None  # what the press found before
        found = await b.wait_menu(7, 42)
        await sending
        assert found is not None and found.reply.token == "t1"
        # Nothing on its way any more: a press on an unknown message is answered at once.
        started = time.monotonic()
        assert await b.wait_menu(7, 41) is None
        assert time.monotonic() - started < 0.1
    finally:
        a.close()
        b.close()


async def test_a_dead_senders_mark_does_not_hold_presses(tmp_path: Path) -> None:
    """A replica killed mid-send leaves its mark: presses wait for it at most MENU_WAIT_S, and
    a mark older than that not at all."""
    from statbot.channels.telegram.sent import MENU_WAIT_S

    sent = SentMessages(tmp_path / "telegram.sqlite3")
    try:
        with sent.sending(7):
            started = time.monotonic()
            assert await sent.wait_menu(7, 42, within=0.2) is None
            assert 0.2 <= time.monotonic() - started < 1.0
        sent._db.execute("INSERT INTO sending VALUES (?, ?)", (7, time.time() - MENU_WAIT_S - 1))
        started = time.monotonic()
        assert await sent.wait_menu(7, 42) is None
        assert time.monotonic() - started < 0.1
    finally:
        sent.close()
