"""Job kinds for the runner tests. Loaded by path in the test process AND in each worker
subprocess (the runner's ``modules=``), like a production job module."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

from statbot.errors import DataError
from statbot.jobs import Progress, register_job


def _log_line(payload: dict[str, Any], event: str) -> None:
    """Append one line per run to a shared journal so tests can count real executions."""
    journal = payload.get("journal")
    if journal:
        with open(journal, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"event": event, "pid": os.getpid(), "at": time.time()}) + "\n")


@register_job("test.steps", label="test run")
def steps(payload: dict[str, Any], progress: Progress, workdir: Path) -> dict[str, Any]:
    """``n`` steps of ``step_s`` seconds each, then an output file written temp-then-rename."""
    _log_line(payload, "start")
    n = int(payload.get("n", 3))
    started = time.time()
    for i in range(n):
        progress(i / n, f"step {i + 1} of {n}")
        time.sleep(float(payload.get("step_s", 0.05)))
    output = workdir / "output.txt"
    tmp = workdir / ".output.txt.tmp"
    tmp.write_text(str(sum(range(n))), encoding="utf-8")
    os.replace(tmp, output)
    progress(1.0, "done")
    _log_line(payload, "end")
    return {"total": sum(range(n)), "started": started, "ended": time.time(), "pid": os.getpid()}


@register_job("test.sleep_forever")
def sleep_forever(payload: dict[str, Any], progress: Progress, workdir: Path) -> dict[str, Any]:
    """Start a grandchild ``sleep`` in the job's process group, report both pids, then hang."""
    child = subprocess.Popen(["sleep", "60"])
    Path(payload["pids"]).write_text(f"{os.getpid()} {child.pid}", encoding="utf-8")
    progress(0.1, "sleeping")
    time.sleep(60)
    return {}


@register_job("test.hog")
def hog(payload: dict[str, Any], progress: Progress, workdir: Path) -> dict[str, Any]:
    """Allocate ``mb`` megabytes (beyond the runner's RLIMIT_AS in the memory test)."""
    progress(0.0, "allocating")
    block = bytearray(int(payload["mb"]) * 1024 * 1024)
    return {"size": len(block)}


@register_job("test.bad_input")
def bad_input(payload: dict[str, Any], progress: Progress, workdir: Path) -> dict[str, Any]:
    raise DataError("column 'price' is missing", user_message="There is no column named price.")


@register_job("test.bug")
def bug(payload: dict[str, Any], progress: Progress, workdir: Path) -> dict[str, Any]:
    return {"ratio": 1 / int(payload.get("zero", 0))}


@register_job("test.loose_json")
def loose_json(payload: dict[str, Any], progress: Progress, workdir: Path) -> dict[str, Any]:
    """What numeric code returns: NaN, infinity, tuples."""
    return {"nan": float("nan"), "inf": float("-inf"), "pair": (1, 2.5), "ok": 3}


@register_job("test.stray_thread")
def stray_thread(payload: dict[str, Any], progress: Progress, workdir: Path) -> dict[str, Any]:
    """Returns while a non-daemon thread it started is still sleeping."""
    import threading

    threading.Thread(target=time.sleep, args=(60,)).start()
    return {"ok": True}
