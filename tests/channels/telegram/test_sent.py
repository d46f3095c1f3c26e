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
