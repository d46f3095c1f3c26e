"""A bot-like process hosting a LocalJobRunner, for the crash test: it submits one job, writes
every emitted event to a JSON-lines file, and runs until it is SIGKILLed."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from statbot.engine.events import Event
from statbot.jobs import JobSpec
from statbot.jobs.local import LocalJobRunner


async def main(data_dir: str, events_file: str, modules: str, spec_json: str) -> None:
    def append(line: str) -> None:
        with open(events_file, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")

    async def emit(event: Event) -> bool:
        await asyncio.to_thread(append, json.dumps(event.to_dict()))
        return True

    runner = LocalJobRunner(
        Path(data_dir),
        emit=emit,
        modules=tuple(modules.split(",")),  # comma-separated job modules
        progress_interval_s=0,
        default_memory_mb=None,
    )
    await runner.start()
    await runner.submit(JobSpec.from_dict(json.loads(spec_json)))
    await asyncio.sleep(3600)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
