"""N webhook replicas vs one; a replica and a Temporal worker SIGKILLed mid-load (issue 14).

Each run starts from scratch on 127.0.0.1: the sandbox (Bot API emulator, in this process,
delivering the webhook over up to 40 connections, one update in flight per chat), HAProxy,
redis-server (AOF on), PostgreSQL, a Temporal dev server, and ``statbot run`` replicas in webhook
mode sharing them and one data dir (tests/support/replicas.py). ``--users`` users each send
``--per-user`` ``/kb_get <entry>`` commands back to back, all users at once; every reply names
its input (tests/support/replica_load.py), so the tally counts ``lost`` (no reply),
``out_of_order`` (chats whose replies are not in input order) and ``redelivered`` (a reply sent
again: delivery is at least once); ``doubled`` counts inputs applied more than once, read from the
conversations' history in Redis.

Three runs, each on fresh engines: 1 replica and ``--replicas`` replicas, both without faults
(the throughput peers: ``throughput_ratio_3_vs_1`` = messages answered per second, first message
sent to last first reply, of the N-replica run over the 1-replica run; with each, the replicas'
CPU per message and how busy the whole machine was, which says whether cores or statbot bound
the ratio), then ``--replicas`` replicas with one SIGKILLed ``--kill-after`` seconds into the
load (the fault run: ``lost``, ``doubled``, ``out_of_order``, ``redelivered`` and ``p99_ms`` are
its; its conversations on the killed replica wait for their leases to expire, so its throughput
is not the peers'). In the fault run ``--trainers`` more users train meanwhile (the sklearn
diabetes table uploaded, /train with the defaults; tests/support/train_load.py) on two
``statbot worker`` processes, and the worker holding the most running trainings is SIGKILLed
half a second after the last one started: ``temporal_worker_drill`` says how many started,
finished, finished twice or never, the model rows per training and the workflows' end states
(``exactly_once``: every started training finished once, one model row each, every workflow
completed).

Run from the repo root: ``.venv/bin/python benchmarks/replicas.py [--users 500]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the harness lives in tests/support/

from tests.support.replica_load import Entries, Load, Tally  # noqa: E402
from tests.support.replicas import TOKEN, replica_cluster  # noqa: E402
from tests.support.train_load import run_training_drill  # noqa: E402

from statbot.sandbox import run_sandbox  # noqa: E402
from statbot.sandbox.state import SandboxConfig  # noqa: E402


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU jiffies of the whole machine so far (/proc/stat's first line)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return float(sum(values) - idle), float(sum(values))


class CpuSampler:
    """The machine's and the replicas' CPU counters every 0.2 s, so that how busy the machine
    was is read over the load's own window (first message sent to last first reply), not over
    the quiet seconds the tally waits after it."""

    def __init__(self, replicas: list[Any]) -> None:
        self.replicas = replicas
        self.samples: list[tuple[float, float, float, float]] = []  # time, busy, total, replicas
        self._task: asyncio.Task[None] | None = None

    def _sample(self) -> None:
        busy, total = machine_busy()
        replicas = sum(r.cpu_seconds() for r in self.replicas)
        self.samples.append((time.time(), busy, total, replicas))

    async def _loop(self) -> None:
        while True:
            self._sample()
            await asyncio.sleep(0.2)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    def stop(self) -> None:
        assert self._task is not None
        self._task.cancel()

    def over(self, start: float, end: float) -> dict[str, float]:
        """``machine_cpu_busy`` (0..1 of all cores) and ``replica_cores`` (cores' worth the
        replicas used) between the samples nearest ``start`` and ``end``."""
        inside = [s for s in self.samples if start - 0.2 <= s[0] <= end + 0.2]
        if len(inside) < 2:
            return {}
        (t0, b0, n0, r0), (t1, b1, n1, r1) = inside[0], inside[-1]
        return {
            "machine_cpu_busy": round((b1 - b0) / max(n1 - n0, 1.0), 2),
            "replica_cores": round((r1 - r0) / max(t1 - t0, 1e-9), 2),
        }


# The fault run's jobs run on two `statbot worker`s only (one of them is killed), several at a
# time each, and Temporal retries a dead worker's attempts 6 s after its last heartbeat.
FAULT_ENV = {
    "STATBOT_TEMPORAL_WORKER": "false",
    "STATBOT_JOB_CONCURRENCY": "4",
    "STATBOT_TEMPORAL_HEARTBEAT_SECONDS": "6",
}


async def one_run(
    replicas: int,
    users: int,
    per_user: int,
    kill_after: float | None,
    within: float,
    trainers: int = 0,
) -> tuple[Tally, dict[str, Any]]:
    """One run on fresh engines. ``kill_after``: SIGKILL the last replica that long into the
    load and, with ``trainers`` users training meanwhile, the busiest worker mid-training."""
    workers, env = (2, FAULT_ENV) if trainers else (0, {})
    with tempfile.TemporaryDirectory(prefix="statbot-replicas-") as tmp:
        config = SandboxConfig(webhook_retry_seconds=0.2)
        async with (
            run_sandbox(token=TOKEN, config=config) as sandbox,
            replica_cluster(
                Path(tmp), sandbox.api_url, count=replicas, workers=workers, **env
            ) as cluster,
        ):
            load = Load(sandbox.client, Entries.load(), per_user)
            await load.add_users(users)
            cpu_before = sum(r.cpu_seconds() for r in cluster.replicas)
            sampler = CpuSampler(cluster.replicas)
            if kill_after is None:
                sampler.start()
            driver_before = time.process_time()
            started = time.monotonic()
            drill = None
            if trainers:  # the trainings start first: they must be running when the kills come
                drill = asyncio.create_task(
                    run_training_drill(cluster, sandbox.client, trainers, kill_worker_after_s=0.5)
                )
            sending = asyncio.create_task(load.run())
            killed_at = None
            if kill_after is not None:
                await asyncio.sleep(kill_after)
                cluster.replicas[-1].kill()
                killed_at = round(time.monotonic() - started, 2)
            await sending
            await load.wait_answered(within=within)
            tally = await load.tally(cluster.redis_url)
            extra: dict[str, Any] = {"killed_at_s": killed_at, "problems": tally.problems[:5]}
            if drill is not None:
                extra["training"] = (await drill).as_dict()
            if kill_after is None:  # every replica lived through the run: its CPU is all here
                cpu = sum(r.cpu_seconds() for r in cluster.replicas) - cpu_before
                extra["replica_cpu_ms_per_msg"] = round(cpu * 1000 / max(tally.answered, 1), 2)
                driver = time.process_time() - driver_before  # the sandbox and the users
                extra["driver_cpu_ms_per_msg"] = round(driver * 1000 / max(tally.answered, 1), 2)
                sampler.stop()
                extra.update(sampler.over(tally.first_sent, tally.last_reply))
            return tally, extra


CPU_KEYS = ("machine_cpu_busy", "replica_cores")


def _side(tally: Tally, extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "lost": tally.lost,
        "doubled": tally.doubled,
        "out_of_order": tally.out_of_order,
        "p99_ms": round(tally.p99_ms, 1),
        "throughput_msgs_per_s": round(tally.throughput, 1),
        **{k: v for k, v in extra.items() if k.endswith("_per_msg") or k in CPU_KEYS},
    }


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    one, one_extra = await one_run(1, args.users, args.per_user, None, args.timeout)
    many, many_extra = await one_run(args.replicas, args.users, args.per_user, None, args.timeout)
    fault, extra = await one_run(
        args.replicas, args.users, args.per_user, args.kill_after, args.timeout, args.trainers
    )
    ratio = round(many.throughput / one.throughput, 2) if one.throughput else None
    return {
        "bench": "replicas",
        "replicas": args.replicas,
        "users": args.users,
        "messages": fault.messages,
        "lost": fault.lost,
        "doubled": fault.doubled,
        "out_of_order": fault.out_of_order,
        "redelivered": fault.redelivered,
        "p99_ms": round(fault.p99_ms, 1),
        "throughput_msgs_per_s": round(fault.throughput, 1),
        "throughput_ratio_3_vs_1": ratio,
        "one_replica": _side(one, one_extra),
        "replicas_no_fault": _side(many, many_extra),
        "killed_one_replica_at_s": extra["killed_at_s"],
        "first_problems": extra["problems"],
        "temporal_worker_drill": extra.get("training", "not run (--trainers 0)"),
        "cores": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--per-user", type=int, default=3)
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--kill-after", type=float, default=2.0)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument(
        "--trainers", type=int, default=10, help="users training through the fault run"
    )
    args = parser.parse_args()
    print(json.dumps(asyncio.run(bench(args))), flush=True)


if __name__ == "__main__":
    main()
