"""Three webhook replicas keep statbot's promises (issue 14): 3 × ``statbot run`` + redis-server
+ PostgreSQL behind HAProxy, the sandbox delivering the webhook over up to 40 connections, ~60
users each sending a numbered sequence; one replica SIGKILLed, or frozen (SIGSTOP) past its
leases and thawed, mid-load. Then every message is answered exactly once, in input order per
chat (DESIGN promises 1-3, across processes)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from statbot.sandbox import RunningSandbox
from tests.support.replica_load import Entries, Load
from tests.support.replicas import Cluster, replica_cluster

USERS = 60
PER_USER = 5


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


async def test_one_rate_limit_bucket_for_all_replicas(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """The incoming rate limit counts a conversation once, whichever replica HAProxy hands each
    update to: a burst of 3 lets 3 of 8 commands through and says "slow down" once. (With a
    bucket per replica, each of the 3 would have let 3 through.)"""
    limited = {"STATBOT_RATE_LIMIT_PER_MINUTE": "1", "STATBOT_RATE_LIMIT_BURST": "3"}
    async with replica_cluster(tmp_path, sandbox.api_url, count=3, **limited) as cluster:
        entries = Entries.load()
        user = await sandbox.client.add_user("hasty")
        for entry in entries.sequence(0, 8):
            await sandbox.client.send(f"/kb_get {entry}", user_id=user)
            # One at a time, so each is applied by the replica that received it (a burst would
            # be applied by whichever held the lease, one process judging it all).
            await asyncio.sleep(0.4)
        deadline = asyncio.get_running_loop().time() + 30
        while True:
            chat = await sandbox.client.chat(user_id=user)
            texts = [m.text or "" for m in chat.bot_messages]
            answered = entries.answered(chat)
            slow = [t for t in texts if t.startswith("Slow down:")]
            if len(answered) + len(slow) >= 4 or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.3)
        await asyncio.sleep(2.0)  # what a second bucket would have let through comes by now
        chat = await sandbox.client.chat(user_id=user)
        answered = entries.answered(chat)
        slow = [m for m in chat.bot_messages if (m.text or "").startswith("Slow down:")]
        assert [e for e, _ in answered] == list(entries.sequence(0, 8)[:3]), cluster.logs()
        assert len(slow) == 1
        received = [await updates_received(r.health_port) for r in cluster.replicas]
        assert sum(1 for n in received if n) >= 2, f"one replica took the whole burst: {received}"


async def updates_received(health_port: int) -> float:
    """A replica's ``statbot_updates_received_total``, from its /metrics."""
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{health_port}/metrics") as response,
    ):
        text = await response.text()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("statbot_updates_received_total")
    )
