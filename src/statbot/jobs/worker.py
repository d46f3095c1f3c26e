"""The job subprocess: ``python -m statbot.jobs.worker TASK_JSON``.

Started by :mod:`statbot.jobs.launch` in its own process group. Talks back over its original
stdout, one JSON object a line (``progress`` heartbeats, then at most one ``error``); the job's own
prints and C-level output go to stderr (the job's log file) instead, so they cannot corrupt the
protocol. The result is written to ``workdir/result.json`` under a temporary name and renamed, so
it either exists whole or not at all — the parent and a resumed run both rely on that.
"""

from __future__ import annotations

import json
import logging
import math
import os
import resource
import sys
import time
import traceback
from pathlib import Path
from typing import IO, Any

RESULT_FILE = "result.json"
EXIT_OK = 0
EXIT_JOB_FAILED = 2
EXIT_ORPHANED = 3
_PR_SET_PDEATHSIG = 1
_HEARTBEAT_MIN_S = 0.02

log = logging.getLogger("statbot.jobs.worker")


def plain_json(value: Any) -> Any:
    """``value`` as strict JSON data: NaN/inf become None (the engine's stores refuse them),
    numpy scalars and arrays become Python numbers and lists, tuples become lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): plain_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_json(v) for v in value]
    if value is None or isinstance(value, str | int | bool):
        return value
    if hasattr(value, "tolist"):  # numpy arrays and scalars, without importing numpy
        return plain_json(value.tolist())
    raise TypeError(f"{type(value).__name__} is not JSON data")


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` (strict JSON) to ``path`` via a temporary name + fsync + rename."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(plain_json(data), fh, allow_nan=False)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _die_with_parent(parent_pid: int) -> None:
    """Linux: SIGKILL this process when the runner dies, so a crashed bot leaves no orphan that
    could race the resumed run. Elsewhere the runner kills stale pids on its next start."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        sys.exit(EXIT_ORPHANED)


class _Channel:
    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._last = (0.0, -1.0, "")

    def send(self, message: dict[str, Any]) -> None:
        self._stream.write(json.dumps(message) + "\n")
        self._stream.flush()

    def progress(self, fraction: float, message: str = "") -> None:
        fraction = min(1.0, max(0.0, float(fraction)))
        now = time.monotonic()
        last_at, last_fraction, last_message = self._last
        if message == last_message and now - last_at < _HEARTBEAT_MIN_S and fraction < 1.0:
            return
        if (fraction, message) == (last_fraction, last_message):
            return
        self._last = (now, fraction, message)
        self.send({"t": "progress", "p": fraction, "m": str(message)})


def _limit_memory(memory_mb: int | None) -> None:
    if not memory_mb:
        return
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = memory_mb * 1024 * 1024
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _lift_memory_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (hard, hard))


def run(task: dict[str, Any], channel: _Channel) -> int:
    from statbot.errors import StatbotError
    from statbot.jobs.kinds import get_job, load_job_modules

    workdir = Path(task["workdir"])
    try:
        load_job_modules(task.get("modules", ()))
        fn = get_job(str(task["kind"]))
        _limit_memory(task.get("memory_mb"))
        result = fn(dict(task.get("payload") or {}), channel.progress, workdir)
        if not isinstance(result, dict):
            raise TypeError(f"job {task['kind']!r} returned {type(result).__name__}, not a dict")
        _lift_memory_limit()
        write_json_atomic(workdir / RESULT_FILE, result)
    except MemoryError:
        _lift_memory_limit()
        traceback.print_exc()
        channel.send({"t": "error", "code": "memory"})
        return EXIT_JOB_FAILED
    except StatbotError as exc:
        _lift_memory_limit()
        traceback.print_exc()
        channel.send({"t": "error", "code": "user", "message": exc.user_message})
        return EXIT_JOB_FAILED
    except Exception as exc:  # the job's own bug: report it, keep the traceback in the log
        _lift_memory_limit()
        traceback.print_exc()
        channel.send({"t": "error", "code": "crash", "message": f"{type(exc).__name__}: {exc}"})
        return EXIT_JOB_FAILED
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    task = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    _die_with_parent(int(task["parent_pid"]))
    # Keep the real stdout for the protocol; everything else printed to fd 1 goes to stderr.
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    log.info("job %s (%s) attempt %s in pid %d", task["job_id"], task["kind"],
             task.get("attempt"), os.getpid())  # fmt: skip
    return run(task, _Channel(protocol))


if __name__ == "__main__":
    code = main()
    sys.stderr.flush()
    # Exit now: a thread or an atexit hook a job's library left behind must not keep a finished
    # job's process alive until its time limit (its result is already on disk).
    os._exit(code)
