"""N webhook replicas vs one, with a replica SIGKILLed mid-load (issue 14). One JSON line.

Each run starts from scratch on 127.0.0.1: the sandbox (Bot API emulator, in this process,
delivering the webhook over up to 40 connections, one update in flight per chat), HAProxy,
redis-server (AOF on), PostgreSQL, a Temporal dev server, and ``statbot run`` replicas in webhook
mode sharing them and one data dir (tests/support/replicas.py). ``--users`` users each send
``--per-user`` ``/kb_get <entry>`` commands back to back, all users at once; every reply names
its input (tests/support/replica_load.py), so the tally counts ``lost`` (no reply),
``out_of_order`` (chats whose replies are not in input order) and ``redelivered`` (a reply sent
again: delivery is at least once); ``doubled`` counts inputs applied more than once, read from the
conversations' history in Redis.

Peers in the same run: 1 replica, then ``--replicas`` replicas with one SIGKILLed
``--kill-after`` seconds into the load. ``throughput_ratio_3_vs_1`` = messages answered per
second (first message sent to last first reply) of the N-replica run over the 1-replica run.
``p99_ms`` is the N-replica run's time-to-reply. The Temporal worker drill (a worker SIGKILLed
while users train) is not part of this script yet.

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

from statbot.sandbox import run_sandbox  # noqa: E402
from statbot.sandbox.state import SandboxConfig  # noqa: E402


async def one_run(
    replicas: int, users: int, per_user: int, kill_after: float | None, within: float
) -> tuple[Tally, dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="statbot-replicas-") as tmp:
        config = SandboxConfig(webhook_retry_seconds=0.2)
        async with (
            run_sandbox(token=TOKEN, config=config) as sandbox,
            replica_cluster(Path(tmp), sandbox.api_url, count=replicas) as cluster,
        ):
            load = Load(sandbox.client, Entries.load(), per_user)
            await load.add_users(users)
            started = time.monotonic()
            sending = asyncio.create_task(load.run())
            killed_at = None
            if kill_after is not None:
                await asyncio.sleep(kill_after)
                cluster.replicas[-1].kill()
                killed_at = round(time.monotonic() - started, 2)
            await sending
            await load.wait_answered(within=within)
            tally = await load.tally(cluster.redis_url)
            extra = {"killed_at_s": killed_at, "problems": tally.problems[:5]}
            return tally, extra


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    one, _ = await one_run(1, args.users, args.per_user, None, args.timeout)
    many, extra = await one_run(
        args.replicas, args.users, args.per_user, args.kill_after, args.timeout
    )
    return {
        "bench": "replicas",
        "replicas": args.replicas,
        "users": args.users,
        "messages": many.messages,
        "lost": many.lost,
        "doubled": many.doubled,
        "out_of_order": many.out_of_order,
        "redelivered": many.redelivered,
        "p99_ms": round(many.p99_ms, 1),
        "throughput_msgs_per_s": round(many.throughput, 1),
        "throughput_ratio_3_vs_1": round(many.throughput / one.throughput, 2)
        if one.throughput
        else None,
        "one_replica": {
            "lost": one.lost,
            "doubled": one.doubled,
            "out_of_order": one.out_of_order,
            "p99_ms": round(one.p99_ms, 1),
            "throughput_msgs_per_s": round(one.throughput, 1),
        },
        "killed_one_replica_at_s": extra["killed_at_s"],
        "first_problems": extra["problems"],
        "temporal_worker_drill": "not run (not built yet)",
        "cores": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--per-user", type=int, default=3)
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--kill-after", type=float, default=2.0)
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(bench(args))), flush=True)


if __name__ == "__main__":
    main()
