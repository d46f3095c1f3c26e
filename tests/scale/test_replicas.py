"""Three webhook replicas keep statbot's promises (issue 14): 3 × ``statbot run`` + redis-server
+ PostgreSQL behind HAProxy, the sandbox delivering the webhook over up to 40 connections, ~60
users each sending a numbered sequence; one replica SIGKILLed, or frozen (SIGSTOP) past its
leases and thawed, mid-load. Then every message is answered exactly once, in input order per
chat (DESIGN promises 1-3, across processes)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from statbot.sandbox import RunningSandbox, run_sandbox
from statbot.sandbox.state import SandboxConfig
from tests.support.loadbalancer import require_haproxy
from tests.support.replica_load import Entries, Load
from tests.support.replicas import TOKEN, Cluster, replica_cluster

USERS = 60
PER_USER = 5


@pytest.fixture
async def sandbox() -> AsyncIterator[RunningSandbox]:
    require_haproxy()
    async with run_sandbox(token=TOKEN, config=SandboxConfig(webhook_retry_seconds=0.2)) as sb:
        yield sb


@pytest.fixture
async def cluster(sandbox: RunningSandbox, tmp_path: Path) -> AsyncIterator[Cluster]:
    async with replica_cluster(tmp_path, sandbox.api_url, count=3) as running:
        yield running


async def load(sandbox: RunningSandbox) -> Load:
    running = Load(sandbox.client, Entries.load(), PER_USER)
    await running.add_users(USERS)
    return running


async def test_sigkill_one_replica_mid_load(sandbox: RunningSandbox, cluster: Cluster) -> None:
    users = await load(sandbox)
    sending = asyncio.create_task(users.run(pace=0.15))
    await asyncio.sleep(0.5)
    cluster.replicas[1].kill()
    await sending
    await users.wait_answered(within=60)
    tally = await users.tally(cluster.redis_url)
    assert (tally.lost, tally.doubled, tally.out_of_order) == (0, 0, 0), (
        tally.summary() + "\n" + cluster.logs()
    )
    # The killed replica comes back and takes its share of new users again.
    back = cluster.replicas[1]
    await back.restart()
    await asyncio.sleep(1.5)  # HAProxy's checks (every 200 ms) put it back in rotation
    later = Load(sandbox.client, users.entries, 2)
    await later.add_users(20)
    await later.run()
    await later.wait_answered(within=30)
    tally = await later.tally(cluster.redis_url)
    assert (tally.lost, tally.doubled, tally.out_of_order) == (0, 0, 0), tally.summary()
    assert "kb_get: (start) -> browse" in back.output(), "the restarted replica got no update"


async def test_freeze_past_leases_then_thaw(sandbox: RunningSandbox, cluster: Cluster) -> None:
    users = await load(sandbox)
    sending = asyncio.create_task(users.run(pace=0.15))
    await asyncio.sleep(0.5)
    frozen = cluster.replicas[2]
    frozen.freeze()
    await asyncio.sleep(6.0)  # longer than a lease (and HAProxy's check) lasts
    frozen.thaw()
    await sending
    await users.wait_answered(within=60)
    tally = await users.tally(cluster.redis_url)
    assert (tally.lost, tally.doubled, tally.out_of_order) == (0, 0, 0), (
        tally.summary() + "\n" + cluster.logs()
    )
