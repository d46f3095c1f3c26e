"""Session stores at scale: 100,000 sessions on SQLite and on Redis (issue #2).

For each store: populate N idle sessions through the public API, then measure
- ``bytes_per_session``: SQLite file size after a TRUNCATE checkpoint / N; Redis INFO
  ``used_memory`` growth / N;
- ``sweep_s``: one expiry sweep, ``idle_since`` + ``grace_expired`` over all N sessions
  (a quarter idle past the timeout, a quarter past their grace period; every match returned);
- ``p50_ms`` / ``p99_ms``: one conversation step, ``load`` + ``commit`` (new history entry,
  applied event id, one reply) on a random session, one at a time.
Prints one JSON line per store. Targets: p99 <= 1 ms (sqlite), sweep <= 1 s, <= 2 KB/session.

    .venv/bin/python benchmarks/sessions.py [--sessions 100000] [--redis-url redis://...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from statbot.engine.events import ConversationKey
from statbot.engine.replies import Reply
from statbot.engine.session import Session, SessionStatus
from statbot.engine.stores.base import SessionStore
from statbot.engine.stores.redis import RedisStore
from statbot.engine.stores.sqlite import SqliteStore

TIMEOUT, GRACE = 3600.0, 86400.0
APPENDONLY = "yes"
PROFILE = False  # --profile: cProfile the timed steps, table on stderr
CONCURRENCY = 64  # commits in flight while populating Redis (one at a time for SQLite)


def idle_session(i: int, now: float) -> Session:
    """A typical idle conversation: mid-workflow, a few selections, a short history."""
    s = Session(ConversationKey("telegram", 100_000_000 + i, 500_000_000 + i))
    s.workflow, s.state = "describe", "pick_columns"
    s.data = {"dataset": f"ds-{i:08x}", "columns": ["age", "income", "region"], "page": 0}
    s.context = {"dataset": f"ds-{i:08x}"}
    s.datasets = [f"ds-{i:08x}"]
    texts = ["/describe", "Send me a CSV file.", "sales_2024.csv", "Which columns?", "age"]
    s.history = [
        {"role": "user" if n % 2 == 0 else "bot", "text": t, "at": round(now - 60 + n, 3)}
        for n, t in enumerate(texts)
    ]
    for n in range(5):
        s.mark_applied(f"u{1_000_000 + i * 10 + n}", 1_000_000 + i * 10 + n)
    s.menu = f"m{i % 997}"
    s.created_at, s.updated_at = now - 120, now
    kind = i % 4  # 0: idle past the timeout, 1: grace expired, 2-3: fresh
    if kind == 0:
        s.updated_at = now - TIMEOUT - 10
    elif kind == 1:
        s.status, s.grace_until = SessionStatus.GRACE, now - 10
    return s


async def populate(store: SessionStore, n: int, now: float, concurrency: int) -> None:
    async def one(i: int) -> None:
        await store.commit(idle_session(i, now), expected_version=0)

    for start in range(0, n, concurrency):
        await asyncio.gather(*(one(i) for i in range(start, min(n, start + concurrency))))


async def sweep(store: SessionStore, n: int, now: float) -> tuple[float, int]:
    began = time.perf_counter()
    idle = await store.idle_since(now - TIMEOUT, limit=n)
    expired = await store.grace_expired(now, limit=n)
    return time.perf_counter() - began, len(idle) + len(expired)


async def steps(
    store: SessionStore, n: int, ops: int, seed: int
) -> tuple[list[float], list[float]]:
    """Wall time and this thread's CPU time of each step. On a busy machine the two differ by
    the time the process waited for a CPU, which is not the store's cost."""
    if PROFILE:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        try:
            return await _steps(store, n, ops, seed)
        finally:
            profiler.disable()
            print(f"-- cProfile of {ops} load+commit steps ({store.name})", file=sys.stderr)
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(12)
    return await _steps(store, n, ops, seed)


async def _steps(
    store: SessionStore, n: int, ops: int, seed: int
) -> tuple[list[float], list[float]]:
    rng = random.Random(seed)
    timings, cpu = [], []
    for op in range(ops):
        key = idle_session(rng.randrange(n), 0.0).key
        began, began_cpu = time.perf_counter(), time.thread_time()
        s = await store.load(key)
        assert s is not None
        event_id = f"u{9_000_000 + op}"
        s.mark_applied(event_id, 9_000_000 + op)
        s.remember("user", "age, income", 50)
        s.updated_at = time.time()
        await store.commit(
            s, expected_version=s.version, replies=[Reply.say("Got it.")], event_id=event_id
        )
        timings.append(time.perf_counter() - began)
        cpu.append(time.thread_time() - began_cpu)
    return timings, cpu


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def summary(
    store: str,
    n: int,
    timed: tuple[list[float], list[float]],
    sweep_s: float,
    found: int,
    size: float,
) -> dict[str, Any]:
    timings, cpu = timed
    return {
        "store": store,
        "sessions": n,
        "p50_ms": round(statistics.median(timings) * 1000, 4),
        "p99_ms": round(p99(timings) * 1000, 4),
        "p99_thread_cpu_ms": round(p99(cpu) * 1000, 4),
        "sweep_s": round(sweep_s, 4),
        "bytes_per_session": round(size / n, 1),
        "ops": len(timings),
        "sweep_found": found,
        "loadavg_1m": round(os.getloadavg()[0], 2),  # other work on the machine skews p99
    }


def disk_size(path: Path) -> int:
    """The database file plus whatever is left in its WAL."""
    wal = Path(f"{path}-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


async def bench_sqlite(n: int, ops: int, seed: int, synchronous: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="statbot-bench-") as tmp:
        path = Path(tmp) / "sessions.sqlite3"
        now = time.time()
        store = SqliteStore(path, synchronous=synchronous)
        await store.open()
        try:
            await populate(store, n, now, concurrency=1)
            if not await store.checkpoint():
                sys.exit("sqlite checkpoint did not complete; file size would be wrong")
            size = disk_size(path)
            sweep_s, found = await sweep(store, n, now)
            timed = await steps(store, n, ops, seed)
        finally:
            await store.close()
        name = "sqlite" if synchronous == "NORMAL" else f"sqlite_{synchronous.lower()}"
        return summary(name, n, timed, sweep_s, found, size) | {"synchronous": synchronous}


async def bench_redis(url: str, n: int, ops: int, seed: int) -> dict[str, Any]:
    import redis.asyncio as aioredis

    raw = aioredis.Redis.from_url(url)
    prefix = f"bench:{time.time_ns()}:"
    now = time.time()
    async with RedisStore(url, prefix=prefix) as store:
        # Open the client's connections and load the scripts before the baseline, so the
        # memory delta counts sessions and their indexes, not client buffers.
        await asyncio.gather(*(store.counts() for _ in range(CONCURRENCY)))
        before = int((await raw.info("memory"))["used_memory"])
        await populate(store, n, now, concurrency=CONCURRENCY)
        size = int((await raw.info("memory"))["used_memory"]) - before
        sweep_s, found = await sweep(store, n, now)
        timed = await steps(store, n, ops, seed)
    aof = (await raw.config_get("appendfsync"))["appendfsync"]
    appendonly = (await raw.config_get("appendonly"))["appendonly"]
    async for name in raw.scan_iter(match=f"{prefix}*", count=1000):
        await raw.unlink(name)
    await raw.aclose()
    extra = {"aof": aof if appendonly == "yes" else "off"}
    return summary("redis", n, timed, sweep_s, found, size) | extra


class LocalRedis:
    """redis-server on 127.0.0.1 with AOF everysec (the configuration docs recommend)."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            sys.exit("redis-server not found: run scripts/install-test-system.sh, or --redis-url")
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.dir = tempfile.mkdtemp(prefix="statbot-bench-redis-")
        args = ["--bind", "127.0.0.1", "--port", str(self.port), "--dir", self.dir, "--save", "",
                "--appendonly", APPENDONLY, "--appendfsync", "everysec"]  # fmt: skip
        self.proc = subprocess.Popen([binary, *args], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while not self._pong():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _pong(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--ops", type=int, default=10_000, help="load+commit steps timed")
    parser.add_argument("--stores", default="sqlite,redis", help="sqlite,sqlite_full,redis")
    parser.add_argument("--redis-url", default="", help="use this server instead of starting one")
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--profile", action="store_true", help="cProfile the steps (stderr)")
    args = parser.parse_args()
    global PROFILE  # noqa: PLW0603 - a script-level switch
    PROFILE = args.profile
    n, ops = args.sessions, min(args.ops, args.sessions * 10)
    for store in args.stores.split(","):
        if store in ("sqlite", "sqlite_full"):
            sync = "NORMAL" if store == "sqlite" else "FULL"
            result = await bench_sqlite(n, ops, args.seed, sync)
        elif store == "redis":
            server = None if args.redis_url else LocalRedis()
            url = args.redis_url or (server.url if server else "")
            try:
                result = await bench_redis(url, n, ops, args.seed)
            finally:
                if server is not None:
                    server.stop()
        else:
            sys.exit(f"unknown store {store!r}")
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
