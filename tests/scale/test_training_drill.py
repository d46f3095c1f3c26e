"""A Temporal worker SIGKILLed while users train (issue 14): 3 × ``statbot run`` (no worker in
them) + 2 × ``statbot worker`` + redis-server + PostgreSQL + Temporal behind HAProxy; ten users
train at once through the sandbox; the worker holding the most running trainings is SIGKILLed
mid-training. Temporal retries its attempts on the other worker once their heartbeats stop (6 s
here), and every started training finishes exactly once: one report per chat, one model row per
training in the catalog, every job workflow completed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from statbot.sandbox import RunningSandbox
from tests.support.replicas import Cluster, replica_cluster
from tests.support.train_load import run_training_drill

USERS = 10


@pytest.fixture
async def cluster(sandbox: RunningSandbox, tmp_path: Path) -> AsyncIterator[Cluster]:
    async with replica_cluster(
        tmp_path,
        sandbox.api_url,
        count=3,
        workers=2,
        STATBOT_TEMPORAL_WORKER="false",  # the jobs run on the two `statbot worker`s only
        STATBOT_JOB_CONCURRENCY="4",  # per worker: a kill takes several trainings with it
        # Temporal retries a dead worker's attempts this long after its last heartbeat (30 s
        # by default): the drill stays short.
        STATBOT_TEMPORAL_HEARTBEAT_SECONDS="6",
    ) as running:
        yield running


async def test_sigkill_one_worker_while_users_train(
    sandbox: RunningSandbox, cluster: Cluster
) -> None:
    tally = await run_training_drill(cluster, sandbox.client, USERS, kill_worker_after_s=0.5)
    report = tally.summary() + "\n" + cluster.logs()
    # The kill hit trainings in flight, as Temporal saw them and as the chats did.
    assert tally.held_activities >= 1 and tally.running_at_kill >= 1, report
    assert tally.exactly_once, report
    assert json.loads(json.dumps(tally.as_dict()))["exactly_once"] is True  # as a benchmark says it
    assert tally.ingests == {"COMPLETED": USERS}, report  # the uploads ran on the workers too
    [killed] = [w for w in cluster.workers if w.name == tally.killed]
    assert not killed.alive and [w.alive for w in cluster.workers].count(True) == 1
    # The replicas did not notice: all alive, and a newcomer is answered.
    assert all(r.alive for r in cluster.replicas), cluster.logs()
    newcomer = await sandbox.client.add_user("after-the-drill")
    await sandbox.client.send("/start", user_id=newcomer)
    chat = await sandbox.client.wait_for_bot_messages(1, within=20, user_id=newcomer)
    assert chat.bot_messages, cluster.logs()
