"""The process the crash test kills: the real engine on the real SQLite store.

Protocol (line-oriented, so a SIGKILL can land anywhere):
- stdin: one JSON event per line (``Event.to_dict``); end of input = stop gracefully.
- stdout: ``ready`` once started (inbox replayed, outbox re-sent); ``ack <event_id> <new|dup>``
  after ``submit`` returned, i.e. after the event is durable in the inbox — the moment a
  Telegram channel would acknowledge the update; ``bye`` after a graceful stop.
- the deliverer appends ``<key> <seq> <event_id> <reply text>`` to the delivered file.

The workflow ``/log`` appends every applied event id to the session data, so the final session
shows exactly which events were applied, how often, and in which order.

Usage: python crash_worker.py DB_PATH DELIVERED_PATH
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Sequence

from statbot.engine.events import Event
from statbot.engine.manager import StateManager
from statbot.engine.replies import OutboxItem
from statbot.engine.stores.sqlite import SqliteStore
from statbot.engine.workflow import Context, State, Workflow, WorkflowRegistry


async def log_event(ctx: Context) -> None:
    ctx.data.setdefault("seen", []).append(ctx.event.event_id)
    ctx.reply(f"ok {ctx.event.event_id}")


async def started(ctx: Context) -> None:
    ctx.data["seen"] = []
    ctx.reply("logging")


LOG = Workflow(
    name="log",
    command="log",
    description="append every message to the session",
    start="logging",
    states=(State("logging", on_enter=started, on_event=log_event, final=True),),
)


def emit(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def main(db_path: str, delivered_path: str) -> None:
    store = SqliteStore(db_path)  # the default synchronous setting
    manager = StateManager(store, WorkflowRegistry([LOG]))
    delivered = open(delivered_path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115, ASYNC230

    async def deliver(key: str, items: list[OutboxItem]) -> Sequence[int]:
        for item in items:
            delivered.write(f"{key} {item.seq} {item.event_id} {item.reply.text}\n")
        delivered.flush()
        return [item.seq for item in items]

    manager.set_deliverer(deliver)
    await manager.start()
    emit("ready")

    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    tasks: set[asyncio.Task[None]] = set()

    async def submit(event: Event) -> None:
        fresh = await manager.submit(event)
        emit(f"ack {event.event_id} {'new' if fresh else 'dup'}")

    while line := await reader.readline():
        task = asyncio.create_task(submit(Event.from_dict(json.loads(line))))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.gather(*tasks)
    await manager.drain()
    await manager.stop(10)
    await store.close()
    delivered.close()
    emit("bye")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
