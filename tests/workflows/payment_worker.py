"""The process the payment drill kills (issue 12): the bot's core (statbot.wiring, SQLite
session store, the catalog file, the real payment handler), fed journaled events on stdin.

Usage: python payment_worker.py DATA_DIR DELIVERED_PATH MODE
MODE ``kill-before-ledger``: SIGKILL itself when the handler is about to write the purchase;
``kill-after-ledger``: right after the ledger committed it, before the session commit (the
window the ledger's unique key exists for); ``run``: no kill.
stdout: ``ready`` (started: the inbox replayed), ``ack <event_id>`` once an event is durable
in the inbox (when Telegram's offset would move), ``bye`` after a graceful stop (end of stdin).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from statbot.access.ledger import Ledger
from statbot.config import load_settings
from statbot.engine.events import Event
from statbot.engine.replies import OutboxItem
from statbot.wiring import build_core


def emit(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def arm(mode: str) -> None:
    real = Ledger.record

    def record(self: Ledger, **values: Any) -> bool:
        if values.get("kind") == "purchase" and mode == "kill-before-ledger":
            os.kill(os.getpid(), signal.SIGKILL)
        done = real(self, **values)
        if values.get("kind") == "purchase" and mode == "kill-after-ledger":
            os.kill(os.getpid(), signal.SIGKILL)
        return done

    Ledger.record = record  # type: ignore[method-assign]


async def main(data_dir: str, delivered_path: str, mode: str) -> None:
    arm(mode)
    settings = load_settings(data_dir=Path(data_dir), session_store="sqlite")
    delivered = open(delivered_path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115, ASYNC230

    async def deliver(key: str, items: list[OutboxItem]) -> Sequence[int]:
        for item in items:
            delivered.write(json.dumps([item.event_id, item.reply.kind, item.reply.text]) + "\n")
        delivered.flush()
        return [item.seq for item in items]

    core = build_core(settings, deliver=deliver, jobs=False)
    await core.store.open()
    await core.manager.start()
    emit("ready")
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        event = Event.from_dict(json.loads(line))
        await core.manager.submit(event)
        emit(f"ack {event.event_id}")
    await core.manager.drain()
    await core.manager.stop(10)
    await core.store.close()
    delivered.close()
    emit("bye")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3]))
